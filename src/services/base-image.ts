import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findDebianMirror } from './debian-mirror.js';
import { withFileLock } from './file-lock.js';
import { requireExecutable } from './find-executable.js';
import { commandSucceeds } from './run-command.js';
import { ServiceStartError } from './service-start-error.js';
import { describeExit, spawnLogged, stopProcess } from './spawn-logged.js';

/** Stands in for Gradescope's gradescope/autograder-base: Debian with bash and python3. */
export const defaultBaseImage = 'greengrader/test-base:bookworm';

export interface BaseImageOptions {
  /** Debian suite to bootstrap; default bookworm. */
  suite?: string;
  /** Progress lines; default stderr. */
  log?: (line: string) => void;
}

export interface BaseImageResult {
  tag: string;
  /** False when the image was already there. */
  built: boolean;
  seconds: number;
}

// A cold debootstrap downloads ~40 MB and unpacks ~100 packages: minutes on a slow mirror.
const buildTimeoutMs = 20 * 60_000;

/** Makes sure `tag` exists in the local Docker engine, building it with debootstrap + `docker import` if not. */
export async function ensureBaseImage(
  tag = defaultBaseImage,
  options: BaseImageOptions = {},
): Promise<BaseImageResult> {
  const startedAt = Date.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`[base-image] ${line}\n`));
  const docker = await requireExecutable('docker', 'docker.io');
  const exists = (): Promise<boolean> => commandSucceeds(docker, ['image', 'inspect', tag], { timeoutMs: 30_000 });
  const seconds = (): number => (Date.now() - startedAt) / 1000;
  if (await exists()) return { tag, built: false, seconds: seconds() };

  const lockFile = path.join(tmpdir(), 'greengrader-base-image.lock');
  const built = await withFileLock(
    lockFile,
    async () => {
      if (await exists()) return false; // another caller built it while we waited
      await buildImage(docker, tag, options.suite ?? 'bookworm', log);
      return true;
    },
    buildTimeoutMs + 60_000,
  );
  if (built) log(`built ${tag} in ${seconds().toFixed(1)} s`);
  return { tag, built, seconds: seconds() };
}

async function buildImage(docker: string, tag: string, suite: string, log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`Building ${tag} needs root (debootstrap); run the tests as root`);
  const debootstrap = await requireExecutable('debootstrap', 'debootstrap');
  const mirror = await findDebianMirror(suite);
  const rootfs = await mkdtemp(path.join(tmpdir(), 'gg-rootfs-'));
  const logFile = `${rootfs}.log`;
  try {
    log(`debootstrap ${suite} from ${mirror} into ${rootfs} (log: ${logFile})`);
    const bootstrapStart = Date.now();
    await runLogged(debootstrap, ['--variant=minbase', '--include=python3', suite, rootfs, mirror], logFile);
    log(`debootstrap took ${((Date.now() - bootstrapStart) / 1000).toFixed(1)} s; importing as ${tag}`);
    await importRootfs(docker, rootfs, tag);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
  await rm(logFile, { force: true });
}

async function runLogged(command: string, args: string[], logFile: string): Promise<void> {
  const child = spawnLogged(command, args, { logFile });
  const timer = setTimeout(() => void stopProcess(child, { graceMs: 5_000 }), buildTimeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  if (exit.code !== 0)
    throw await ServiceStartError.withLog(`${path.basename(command)} ${describeExit(exit)}`, logFile);
}

/** Streams the root filesystem into `docker import` without an intermediate tarball. */
function importRootfs(docker: string, rootfs: string, tag: string): Promise<void> {
  // Package downloads and apt lists are dead weight in the image.
  const excludes = ['--exclude=./var/cache/apt/archives/*.deb', '--exclude=./var/lib/apt/lists/*'];
  const tar = spawn('tar', ['--numeric-owner', ...excludes, '-C', rootfs, '-c', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const importer = spawn(docker, ['import', '--change', 'CMD ["/bin/bash"]', '-', tag], {
    stdio: [tar.stdout, 'pipe', 'pipe'],
  });
  // The importer has its own copy of the pipe; ours would never see EOF (nobody reads it) and keep tar open.
  tar.stdout.destroy();
  return Promise.all([exitsCleanly(tar, 'tar'), exitsCleanly(importer, 'docker import')]).then(() => undefined);
}

function exitsCleanly(child: ChildProcess, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${name} failed (${signal ?? String(code)}): ${stderr.trim()}`)),
    );
  });
}
