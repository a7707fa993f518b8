import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../../src/config/config.js';
import { readComposeConfig, type ComposeConfig, type ComposeRun } from './compose-cli.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fromRoot = (...parts: string[]) => path.join(repoRoot, ...parts);

const greengraderCommands: Record<string, string[]> = {
  bridge: ['bridge'],
  orchestrator: ['worker', '--orchestrator'],
  node: ['worker', '--node', 'node-1'],
};

let composeRun: Promise<ComposeRun> | undefined;
/** docker-compose.yml as the Compose tool resolves it with .env.example; run once per test file. */
function resolvedCompose(): Promise<ComposeRun> {
  composeRun ??= readComposeConfig({ cwd: repoRoot, file: 'docker-compose.yml', envFile: '.env.example' });
  return composeRun;
}

describe('docker-compose.yml', () => {
  let compose: ComposeRun;
  let config: ComposeConfig;
  before(async () => {
    compose = await resolvedCompose();
    config = compose.config ?? { services: {} };
  });

  it('passes the Compose tool’s own validation with .env.example as its environment', () => {
    assert.equal(compose.exitCode, 0, `${compose.tool} config failed:\n${compose.stderr}`);
    assert.deepEqual(Object.keys(config.services).sort(), [
      'bridge',
      'mosquitto',
      'node',
      'orchestrator',
      'postgres',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
    ]);
  });

  it('runs the bridge, the orchestrator and a node, all built from the Dockerfile', () => {
    const built = Object.entries(config.services).filter(([, service]) => service.build !== undefined);
    assert.deepEqual(built.map(([name]) => name).sort(), Object.keys(greengraderCommands).sort());
    for (const [name, service] of built) {
      assert.deepEqual(service.command, greengraderCommands[name], `${name}'s command`);
    }
  });

  it('gives every GreenGrader process its database, Temporal and broker, named as src/config reads them', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of Object.keys(greengraderCommands)) {
      const environment = config.services[name]?.environment ?? {};
      // MQTT_CLIENT_ID: the bridge's id is a secret (deploy/mosquitto/README.md), so .env must reach it.
      const keys = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_CLIENT_ID'];
      for (const key of keys) {
        assert.ok(environment[key], `${name} sets ${key}`);
      }
      const unknown = Object.keys(environment).filter((key) => !known.has(key));
      assert.deepEqual(unknown, [], `${name} sets only variables src/config/config.ts reads`);
      assert.match(environment.DATABASE_URL ?? '', /@postgres:5432\//, `${name} reaches the postgres service`);
      assert.equal(environment.TEMPORAL_ADDRESS, 'temporal:7233');
      assert.equal(environment.MQTT_URL, 'mqtt://mosquitto:1883');
    }
  });

  it('mounts the Docker socket into the node worker and adds the socket’s group', () => {
    const node = config.services.node;
    assert.ok(node);
    assert.ok(
      node.volumes.some((mount) => mount.source === '/var/run/docker.sock' && mount.target === '/var/run/docker.sock'),
      `node mounts: ${JSON.stringify(node.volumes)}`,
    );
    assert.deepEqual(node.group_add.map(String), ['999'], 'the group id comes from DOCKER_GID (999 in .env.example)');
    for (const key of ['NODE_REGION', 'NODE_ZONE']) assert.ok(node.environment[key], `node sets ${key}`);
  });

  it('pins every image to a tag other than latest', () => {
    for (const [name, service] of Object.entries(config.services)) {
      assert.ok(service.image, `${name} names its image`);
      assert.ok(isPinned(service.image), `${name}'s image ${service.image} is pinned`);
    }
  });

  it('runs Temporal’s schema tools from the same release as its server', () => {
    const release = (image = '') => /^temporalio\/(?:server|admin-tools):(\d+\.\d+\.\d+)/.exec(image)?.[1];
    const server = release(config.services.temporal?.image);
    assert.ok(server, 'the temporal service runs temporalio/server:X.Y.Z');
    for (const name of ['temporal-schema', 'temporal-namespace']) {
      assert.equal(release(config.services[name]?.image), server, `${name} uses admin-tools ${server}`);
    }
  });

  it('mounts files that exist, except the password folder the operator creates', () => {
    for (const [name, service] of Object.entries(config.services)) {
      for (const mount of service.volumes) {
        const source = mount.source ?? '';
        if (!source.startsWith(repoRoot) || source === fromRoot('deploy', 'mosquitto', 'auth')) continue;
        assert.ok(existsSync(source), `${name} mounts ${path.relative(repoRoot, source)}, which exists`);
      }
    }
  });
});

describe('deploy/mosquitto/mosquitto.conf', () => {
  it('listens on 1883, refuses anonymous clients, checks a password file and persists sessions', async () => {
    const settings = parseMosquittoConf(await readFile(fromRoot('deploy', 'mosquitto', 'mosquitto.conf'), 'utf8'));
    assert.ok(settings.get('listener')?.some((value) => value.split(/\s+/)[0] === '1883'));
    assert.deepEqual(settings.get('allow_anonymous'), ['false']);
    assert.equal(settings.get('per_listener_settings'), undefined, 'one set of rules for every listener');
    assert.equal(settings.get('password_file')?.length, 1);
    assert.deepEqual(settings.get('persistence'), ['true']);
  });

  it('finds its password file in the folder compose mounts from deploy/mosquitto/auth, which git ignores', async () => {
    const settings = parseMosquittoConf(await readFile(fromRoot('deploy', 'mosquitto', 'mosquitto.conf'), 'utf8'));
    const passwordFile = settings.get('password_file')?.[0] ?? '';
    const mounts = (await resolvedCompose()).config?.services.mosquitto?.volumes ?? [];
    const authMount = mounts.find((mount) => mount.target === path.posix.dirname(passwordFile));
    assert.equal(authMount?.source, fromRoot('deploy', 'mosquitto', 'auth'));
    assert.ok(
      mounts.some(
        (mount) =>
          mount.target === '/mosquitto/config/mosquitto.conf' &&
          mount.source === fromRoot('deploy', 'mosquitto', 'mosquitto.conf'),
      ),
    );
    const gitignore = await readFile(fromRoot('.gitignore'), 'utf8');
    assert.ok(gitignore.split('\n').includes('deploy/mosquitto/auth/'), 'the password folder is never committed');
    assert.ok(gitignore.split('\n').includes('.env'), 'secrets in .env are never committed');
  });
});

describe('Dockerfile', () => {
  it('copies only sources that exist and .dockerignore does not drop', async () => {
    const instructions = parseDockerfile(await readFile(fromRoot('Dockerfile'), 'utf8'));
    const ignored = await literalDockerignorePatterns();
    const sources = instructions
      .filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD')
      .filter((instruction) => !instruction.args.some((arg) => arg.startsWith('--from=')))
      .flatMap((instruction) => instruction.args.filter((arg) => !arg.startsWith('--')).slice(0, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) {
      const matches = await matchFromRoot(source);
      assert.ok(matches.length > 0, `COPY source ${source} exists`);
      for (const match of matches) {
        const dropped = ignored.find((pattern) => match === pattern || match.startsWith(`${pattern}/`));
        assert.equal(dropped, undefined, `${match} is not excluded by .dockerignore`);
      }
    }
    for (const needed of ['src', 'drizzle', 'config', 'tsconfig.json', 'package.json', 'package-lock.json']) {
      assert.ok(
        sources.some((source) => matchSync(source.replace(/^\.\/|\/$/g, ''), needed)),
        `${needed} is copied`,
      );
    }
  });

  it('starts from a tagged Node 20 image, as a non-root user, running the CLI through tsx', async () => {
    const instructions = parseDockerfile(await readFile(fromRoot('Dockerfile'), 'utf8'));
    const from = instructions.filter((instruction) => instruction.keyword === 'FROM');
    assert.equal(from.length, 1);
    assert.match(from[0]?.args[0] ?? '', /^node:20[\w.-]*-bookworm-slim$/);
    const user = instructions.filter((instruction) => instruction.keyword === 'USER').at(-1);
    assert.ok(user && !['root', '0'].includes(user.args[0] ?? ''), 'runs as a non-root user');
    const entrypoint = instructions.find((instruction) => instruction.keyword === 'ENTRYPOINT');
    assert.deepEqual(JSON.parse(entrypoint?.raw ?? 'null'), ['node', '--import', 'tsx', 'src/cli/main.ts']);

    // `npm ci --omit=dev` must still install what the entry point needs.
    const manifest = z
      .object({ dependencies: z.record(z.string(), z.string()) })
      .parse(JSON.parse(await readFile(fromRoot('package.json'), 'utf8')));
    assert.ok(manifest.dependencies.tsx, 'tsx is a runtime dependency');
  });

  it('keeps node_modules, tool caches and secrets out of the build context', async () => {
    const ignored = await literalDockerignorePatterns();
    for (const pattern of ['node_modules', '.tools', '.data', '.git', '.env']) {
      assert.ok(ignored.includes(pattern), `.dockerignore excludes ${pattern}`);
    }
  });
});

/** True for `name:tag` (tag not latest) and for `name@sha256:…`; a registry's `host:port/` prefix is no tag. */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').at(-1) ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return tag !== '' && tag !== 'latest';
}

/** Mosquitto's `key value` lines, by key (a key may repeat, e.g. listener); comments and blanks dropped. */
function parseMosquittoConf(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [key = '', ...rest] = line.split(/\s+/);
    settings.set(key, [...(settings.get(key) ?? []), rest.join(' ')]);
  }
  return settings;
}

interface DockerInstruction {
  keyword: string;
  args: string[];
  /** Everything after the keyword, as written (JSON for the exec form). */
  raw: string;
}

/** Dockerfile instructions with continuation lines joined; comments dropped. */
function parseDockerfile(text: string): DockerInstruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...args] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args, raw: line.slice(keyword.length).trim() };
    });
}

/** .dockerignore patterns without wildcards or negation: the only ones this check interprets. */
async function literalDockerignorePatterns(): Promise<string[]> {
  const text = await readFile(fromRoot('.dockerignore'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.trim().replace(/^\/+|\/+$/g, ''))
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!') && !/[*?[]/.test(line));
}

/** Paths (relative to the repository) a COPY source names; `*` and `?` match within one folder. */
async function matchFromRoot(source: string): Promise<string[]> {
  const normalised = path.posix.normalize(source.replace(/^\.\//, '')).replace(/\/$/, '');
  if (!/[*?]/.test(normalised)) return existsSync(fromRoot(normalised)) ? [normalised] : [];
  const dir = path.posix.dirname(normalised);
  const entries = await readdir(fromRoot(dir)).catch(() => []);
  return entries
    .filter((entry) => matchSync(path.posix.basename(normalised), entry))
    .map((entry) => (dir === '.' ? entry : `${dir}/${entry}`));
}

function matchSync(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${regex}$`).test(name);
}
