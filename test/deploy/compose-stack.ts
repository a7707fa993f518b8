// The repository's docker-compose.yml as an operator brings it up (deploy/README.md "First start"), in a
// throwaway project: generated secrets in .env, the broker's password file made with mosquitto_passwd, every
// port on 127.0.0.1. Test-only: the images it needs are stand-ins (test/deploy/stand-ins/README.md).
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/services/index.js';
import { runCommand } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';
import type { Broker } from '../support/publish.js';
import { composeProject, type ComposeProject } from './compose-project.js';
import { ensureStandInImages, type StandInResult } from './stand-in-images.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Every service but temporal-ui, which has no stand-in (see stand-ins/README.md). */
export const composeServices = [
  'postgres',
  'temporal-schema',
  'temporal',
  'temporal-namespace',
  'mosquitto',
  'bridge',
  'orchestrator',
  'node',
] as const;
/** A Temporal server with PostgreSQL persistence and nothing of GreenGrader's (bench:ingest --temporal=compose). */
const temporalServices = ['postgres', 'temporal-schema', 'temporal', 'temporal-namespace'] as const;
/** Built from ./Dockerfile (greengrader:0.1.0): one image for the three. */
const builtServices = ['bridge', 'orchestrator', 'node'] as const;

/** Where the test reaches the stack from the host: ports on 127.0.0.1, chosen just before `up`. */
export interface ComposeEndpoints {
  /** GreenGrader's database. */
  databaseUrl: string;
  /** Temporal's visibility database on the same server. */
  temporalVisibilityUrl: string;
  /** The compose Temporal frontend. */
  temporalAddress: string;
  /** The broker as Gradescope's hook sees it: the publish-only `gradescope` login. */
  publisher: Broker;
}

/** What a test adds to the plain stack: more compose files, settings and services (the fleet test). */
export interface ComposeStackOptions {
  /** Override files merged after docker-compose.yml, as an operator passes them with -f. */
  files?: readonly string[];
  /** .env values added to (or replacing) the defaults below. */
  env?: Readonly<Record<string, string>>;
  /** The test's own additions per service, merged into its override (e.g. a read-only mount). */
  services?: Readonly<Record<string, Record<string, unknown>>>;
  /** The services `up` starts (their dependencies come along); default: composeServices. */
  start?: readonly string[];
  /** The services built from ./Dockerfile before `up`; default: bridge, orchestrator and node. */
  build?: readonly string[];
}

/** What upTemporal() starts, reached from the host. */
export type ComposeTemporalEndpoints = Pick<
  ComposeEndpoints,
  'databaseUrl' | 'temporalVisibilityUrl' | 'temporalAddress'
>;

export interface ComposeStack {
  project: ComposeProject;
  /** The project's .env values (secrets included): what a node on another host would be given. */
  settings: Readonly<Record<string, string>>;
  /** What the stand-in builder did, for the test's report. */
  standIns: StandInResult[];
  /** Builds greengrader's image, starts every service and returns once compose saw them healthy. */
  up(): Promise<ComposeEndpoints>;
  /** Starts only `temporalServices` (no broker, no image build); returns once the Temporal server is healthy. */
  upTemporal(): Promise<ComposeTemporalEndpoints>;
  /** A service's recent log lines (stdout and stderr). */
  logs(service: string, tail?: number): Promise<string>;
  /** Removes the containers, the network and the volumes, then the work folder; safe to call after a failed up. */
  down(): Promise<void>;
}

/** Builds the stand-ins and writes the project's files; starts nothing (call up()). */
export async function prepareComposeStack(options: ComposeStackOptions = {}): Promise<ComposeStack> {
  const baseImage = requireEnv('GG_TEST_BASE_IMAGE');
  // Cached outside the repository; .ci/run builds it in an earlier step, so this takes well under a second.
  const buildScript = path.join(repoRoot, 'scripts', 'build-temporal-server.sh');
  const temporalBinDir = (await runCommand('bash', [buildScript], { timeoutMs: 60 * 60_000 })).stdout.trim();
  const standIns = await ensureStandInImages({ baseImage, temporalBinDir, temporalCli: requireEnv('TEMPORAL_CLI') });

  const workDir = await mkdtemp(path.join(tmpdir(), 'gg-compose-'));
  const name = `ggcompose${randomBytes(4).toString('hex')}`;
  const secret = () => randomBytes(18).toString('hex');
  const env = {
    POSTGRES_USER: 'greengrader',
    POSTGRES_PASSWORD: secret(),
    MQTT_USERNAME: 'greengrader',
    MQTT_PASSWORD: secret(),
    MQTT_CLIENT_ID: `greengrader-bridge-${secret()}`,
    ANONYMISE_KEY: secret(),
    TEMPORAL_NAMESPACE: 'default',
    DOCKER_GID: String((await stat('/var/run/docker.sock')).gid),
    NODE_REGION: 'local',
    NODE_ZONE: 'local',
    AUTOGRADER_BASE_IMAGE: baseImage,
    MQTT_BIND_IP: '127.0.0.1',
    // Carbon-agnostic and at once: the test is about the deployment, not about placement.
    CARBON_PROVIDERS: 'none',
    PLACEMENT_POLICY: 'immediate-home',
    HOME_REGION: 'local',
    MAX_DELAY_SEC: '0',
    ...options.env,
  };
  const publisherPassword = secret();
  const envFile = path.join(workDir, '.env');
  await writeFile(envFile, envLines(env), { mode: 0o600 });

  // The test's own password folder instead of deploy/mosquitto/auth: Compose merges volumes by target.
  const authDir = path.join(workDir, 'auth');
  await mkdir(authDir);
  const overrideFile = path.join(workDir, 'docker-compose.test.yml');
  const writeOverride = (services: Record<string, Record<string, unknown>>) => {
    const merged = { ...options.services };
    for (const [service, fields] of Object.entries(services)) merged[service] = { ...merged[service], ...fields };
    return writeFile(overrideFile, JSON.stringify({ services: merged }, null, 2)); // JSON is YAML
  };
  await writeOverride({ mosquitto: { volumes: [`${authDir}:/mosquitto/auth`] } });

  const project = await composeProject({
    name,
    projectDir: repoRoot,
    files: [path.join(repoRoot, 'docker-compose.yml'), ...(options.files ?? []), overrideFile],
    envFile,
  });

  // Fixed ports, since they must survive a container's restart; taken only just before `up`, so that no other
  // test takes them during a build. PostgreSQL gets one too: the tests read what was graded.
  const fixPorts = async () => {
    const ports = { mqtt: await freePort(), temporal: await freePort(), ui: await freePort(), pg: await freePort() };
    await appendFile(
      envFile,
      envLines({ MQTT_PORT: ports.mqtt, TEMPORAL_PORT: ports.temporal, TEMPORAL_UI_PORT: ports.ui }),
    );
    await writeOverride({
      mosquitto: { volumes: [`${authDir}:/mosquitto/auth`] },
      postgres: { ports: [`127.0.0.1:${String(ports.pg)}:5432`] },
    });
    return ports;
  };
  const temporalEndpoints = (ports: { temporal: number; pg: number }): ComposeTemporalEndpoints => {
    const database = (db: string) =>
      `postgres://${env.POSTGRES_USER}:${env.POSTGRES_PASSWORD}@127.0.0.1:${String(ports.pg)}/${db}`;
    return {
      databaseUrl: database('greengrader'),
      temporalVisibilityUrl: database('temporal_visibility'),
      temporalAddress: `127.0.0.1:${String(ports.temporal)}`,
    };
  };

  return {
    project,
    settings: env,
    standIns,
    async up() {
      // The two logins exactly as deploy/mosquitto/README.md creates them.
      const passwd = ['run', '--rm', '-T', '--no-deps', 'mosquitto', 'mosquitto_passwd', '-b'];
      const file = '/mosquitto/auth/passwd';
      await project.run([...passwd, '-c', file, env.MQTT_USERNAME, env.MQTT_PASSWORD], 120_000);
      await project.run([...passwd, file, 'gradescope', publisherPassword], 120_000);
      // A cold build of greengrader's image runs `npm ci` against the registry: minutes.
      await project.run(['build', ...(options.build ?? builtServices)], 20 * 60_000);

      const ports = await fixPorts();
      await project.run(['up', '-d', ...(options.start ?? composeServices)], 10 * 60_000);
      return {
        ...temporalEndpoints(ports),
        publisher: {
          url: `mqtt://127.0.0.1:${String(ports.mqtt)}`,
          username: 'gradescope',
          password: publisherPassword,
          topic: 'submissions',
        },
      };
    },
    async upTemporal() {
      const ports = await fixPorts();
      await project.run(['up', '-d', ...temporalServices], 10 * 60_000);
      return temporalEndpoints(ports);
    },
    logs: (service, tail = 200) => project.run(['logs', '--no-color', '--tail', String(tail), service], 60_000),
    async down() {
      try {
        await project.run(['down', '--volumes', '--remove-orphans', '--timeout', '30'], 5 * 60_000);
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

/** `KEY=value` lines of an env file. */
function envLines(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${String(value)}\n`)
    .join('');
}
