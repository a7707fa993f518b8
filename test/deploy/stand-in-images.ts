// Builds the compose test's stand-in images (test/deploy/stand-ins/README.md) under the tags docker-compose.yml
// pins. Test-only: the product path never sees these images.
import { createHash } from 'node:crypto';
import { cp, link, mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireExecutable } from '../../src/services/find-executable.js';
import { runCommand } from '../../src/services/run-command.js';

const standInsDir = fileURLToPath(new URL('./stand-ins/', import.meta.url));
/** Marks an image as ours; an image under a pinned tag without it is a real one and is left alone. */
const standInLabel = 'org.greengrader.stand-in';
/** Hash of everything a stand-in is built from: equal means the image is current and the build is skipped. */
const inputsLabel = 'org.greengrader.stand-in.inputs';
// A cold build runs apt-get inside the base image: minutes on a slow mirror.
const buildTimeoutMs = 15 * 60_000;

export interface StandInSources {
  /** The debootstrap base every stand-in starts FROM (greengrader/test-base:bookworm). */
  baseImage: string;
  /** scripts/build-temporal-server.sh's output: temporal-server, temporal-sql-tool, schema/. */
  temporalBinDir: string;
  /** The `temporal` CLI (TEMPORAL_CLI), for admin-tools. */
  temporalCli: string;
}

export interface StandInResult {
  tag: string;
  /** built | current (our image, inputs unchanged) | real (a pulled image under the tag: used as is) */
  status: 'built' | 'current' | 'real';
  seconds: number;
}

interface StandIn {
  tag: string;
  /** Folder under stand-ins/ with the Dockerfile and its scripts. */
  dir: string;
  /** Extra build-context entries: name in the context → file or folder on this machine. */
  extra: (sources: StandInSources) => Promise<Record<string, string>>;
}

/** Every pinned image the compose test starts, except greengrader's own (built from ./Dockerfile by compose). */
const standIns: readonly StandIn[] = [
  { tag: 'postgres:16.9-bookworm', dir: 'postgres', extra: () => Promise.resolve({}) },
  { tag: 'eclipse-mosquitto:2.0.22', dir: 'mosquitto', extra: () => Promise.resolve({}) },
  {
    tag: 'temporalio/server:1.29.1',
    dir: 'temporal-server',
    extra: (s) => Promise.resolve({ 'temporal-server': path.join(s.temporalBinDir, 'temporal-server') }),
  },
  {
    tag: 'temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0',
    dir: 'temporal-admin-tools',
    extra: (s) =>
      Promise.resolve({
        'temporal-sql-tool': path.join(s.temporalBinDir, 'temporal-sql-tool'),
        schema: path.join(s.temporalBinDir, 'schema'),
        temporal: s.temporalCli,
      }),
  },
  {
    tag: 'node:20-bookworm-slim',
    dir: 'node',
    extra: async () => ({
      node: await realpath(process.execPath),
      npm: await npmPackageDir(),
      'ca-certificates.crt': process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt',
    }),
  },
];

/** Builds every stand-in whose inputs changed; one after another, since each runs apt or copies big binaries. */
export async function ensureStandInImages(
  sources: StandInSources,
  log: (line: string) => void = (line) => process.stderr.write(`[stand-ins] ${line}\n`),
): Promise<StandInResult[]> {
  const docker = await requireExecutable('docker', 'docker.io');
  const baseId = (await runCommand(docker, ['image', 'inspect', '--format', '{{.Id}}', sources.baseImage])).stdout;
  const results: StandInResult[] = [];
  for (const standIn of standIns) {
    const startedAt = Date.now();
    const extra = await standIn.extra(sources);
    const ownDir = path.join(standInsDir, standIn.dir);
    const inputs = await hashInputs([baseId.trim(), ownDir, ...Object.entries(extra).flat()]);
    const labels = await imageLabels(docker, standIn.tag);
    let status: StandInResult['status'];
    if (labels !== undefined && labels[standInLabel] !== 'true') status = 'real';
    else if (labels?.[inputsLabel] === inputs) status = 'current';
    else {
      log(`building ${standIn.tag} from ${path.relative(process.cwd(), ownDir)}`);
      await buildStandIn(docker, standIn.tag, ownDir, extra, sources.baseImage, inputs);
      status = 'built';
    }
    results.push({ tag: standIn.tag, status, seconds: (Date.now() - startedAt) / 1000 });
  }
  return results;
}

async function buildStandIn(
  docker: string,
  tag: string,
  ownDir: string,
  extra: Record<string, string>,
  baseImage: string,
  inputs: string,
): Promise<void> {
  const context = await mkdtemp(path.join(tmpdir(), 'gg-stand-in-'));
  try {
    await cp(ownDir, context, { recursive: true });
    for (const [name, source] of Object.entries(extra)) await copyIntoContext(source, path.join(context, name));
    await runCommand(
      docker,
      ['build', '--build-arg', `BASE_IMAGE=${baseImage}`, '--label', `${inputsLabel}=${inputs}`, '-t', tag, context],
      { timeoutMs: buildTimeoutMs },
    );
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/** Hard-links a big binary when the context is on its filesystem (no copy of 100+ MB); copies otherwise. */
async function copyIntoContext(given: string, target: string): Promise<void> {
  // link() would link a symlink itself (e.g. the npm on PATH): use what it points at.
  const source = await realpath(given);
  if ((await stat(source)).isDirectory()) {
    await cp(source, target, { recursive: true, dereference: true });
    return;
  }
  await link(source, target).catch(() => cp(source, target, { dereference: true }));
}

/** The labels of a local image; undefined when there is no image under `tag`. */
async function imageLabels(docker: string, tag: string): Promise<Record<string, string> | undefined> {
  try {
    const { stdout } = await runCommand(docker, ['image', 'inspect', '--format', '{{json .Config.Labels}}', tag]);
    return (JSON.parse(stdout) as Record<string, string> | null) ?? {};
  } catch {
    return undefined;
  }
}

/** SHA-256 over strings and the names and contents of files and folders (paths that exist are read). */
async function hashInputs(items: string[]): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (item: string): Promise<void> => {
    const info = await stat(item).catch(() => undefined);
    if (info === undefined) hash.update(`value:${item}\n`);
    else if (info.isDirectory()) {
      for (const entry of (await readdir(item)).sort()) {
        hash.update(`entry:${entry}\n`);
        await visit(path.join(item, entry));
      }
    } else hash.update(`file:${String(info.mode & 0o111)}:`).update(await readFile(item));
  };
  for (const item of items) await visit(item);
  return hash.digest('hex').slice(0, 32);
}

/** npm's own package folder (…/node_modules/npm), found from the `npm` on PATH. */
async function npmPackageDir(): Promise<string> {
  const cli = await realpath(await requireExecutable('npm', 'npm'));
  return path.dirname(path.dirname(cli));
}
