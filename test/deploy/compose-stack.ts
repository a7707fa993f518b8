// The repository's docker-compose.yml as an operator brings it up (deploy/README.md "The operator's sequence"), in a
// throwaway project: secrets in .env and the broker's password file both made by deploy/ops/make-secrets.sh,
// every port on 127.0.0.1. Test-only: the images it needs are stand-ins (test/deploy/stand-ins/README.md).
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/services/index.js';
import { runCommand } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';
import type { Broker } from '../support/publish.js';
import { composeProject, type ComposeProject } from './compose-project.js';
import { readEnvFile, setEnvValues } from './env-file.js';
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
/** Built from ./Dockerfile (greengrader:0.1.0): one image for the three. */
const builtServices = ['bridge', 'orchestrator', 'node'] as const;
/** A Temporal server with PostgreSQL persistence and nothing of GreenGrader's (bench:ingest --temporal=compose). */
const temporalServices = ['postgres', 'temporal-schema', 'temporal', 'temporal-namespace'] as const;

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

/** What upTemporal() starts, reached from the host. */
export type ComposeTemporalEndpoints = Pick<
  ComposeEndpoints,
  'databaseUrl' | 'temporalVisibilityUrl' | 'temporalAddress'
>;

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

export interface ComposeStack {
  project: ComposeProject;
  /** What the stand-in builder did, for the test's report. */
  standIns: StandInResult[];
  /** The project's .env (mode 600), as the operator's .env. */
  envFile: string;
  /** The .env values (secrets included, once up() made them): what a node on another host would be given. */
  settings(): Promise<ReadonlyMap<string, string>>;
  /** Mounted into the orchestrator as GG_CARBON_TRACES_DIR; read when the orchestrator starts. */
  traceDir: string;
  /** Runs `deploy/ops/SCRIPT ARGS` on this project; resolves with its progress lines (stderr). */
  ops(script: string, args: readonly string[], timeoutMs: number): Promise<string>;
  /** Changes settings in .env; they apply to the containers `up -d` recreates next. */
  setEnv(values: Record<string, string | number>): Promise<void>;
  /** Points orchestrator and node at a new build of the image (tag and label `release`) for the next `up --build`. */
  setRelease(release: string): Promise<void>;
  /**
   * Builds that release's image ahead of setRelease, touching no container, so the `up --build` of the upgrade
   * finds every layer cached and only recreates: the build, minutes cold, stays out of what a test times.
   */
  buildRelease(release: string): Promise<void>;
  /** Makes the secrets, builds greengrader's image, starts every service and returns once compose saw them healthy. */
  up(): Promise<ComposeEndpoints>;
  /** Makes the secrets and starts only `temporalServices` (no image build); returns once Temporal is healthy. */
  upTemporal(): Promise<ComposeTemporalEndpoints>;
  /** A service's recent log lines (stdout and stderr). */
  logs(service: string, tail?: number): Promise<string>;
  /** Removes the containers, the network and the volumes, then the work folder; safe to call after a failed up. */
  down(): Promise<void>;
}

/** What an operator's new build changes: a new tag, and an image that differs (a label) from the running one. */
function releaseOverrides(release: string): Record<string, Record<string, unknown>> {
  const fields = {
    image: `greengrader:0.1.0-${release}`,
    build: { context: '.', labels: { 'org.greengrader.test-release': release } },
  };
  return Object.fromEntries(builtServices.filter((s) => s !== 'bridge').map((service) => [service, fields]));
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
  // The operator's steps (deploy/README.md "Secrets"): .env from .env.example with this host's settings, the
  // secrets left as CHANGE_ME for deploy/ops/make-secrets.sh, which up() runs.
  const envFile = path.join(workDir, '.env');
  await copyFile(path.join(repoRoot, '.env.example'), envFile);
  await chmod(envFile, 0o600);
  await setEnvValues(envFile, {
    AUTOGRADER_BASE_IMAGE: baseImage,
    MQTT_BIND_IP: '127.0.0.1',
    // Carbon-agnostic and at once: the test is about the deployment, not about placement (until it sets a trace).
    CARBON_PROVIDERS: 'none',
    PLACEMENT_POLICY: 'immediate-home',
    HOME_REGION: 'local',
    MAX_DELAY_SEC: '0',
  });
  if (options.env) await setEnvValues(envFile, options.env);

  // The test's own password folder instead of deploy/mosquitto/auth: Compose merges volumes by target. The
  // orchestrator reads carbon traces from a folder the test writes (empty until a test puts a trace there).
  const authDir = path.join(workDir, 'auth');
  const traceDir = path.join(workDir, 'traces');
  await mkdir(authDir);
  await mkdir(traceDir);
  const overrideFile = path.join(workDir, 'docker-compose.test.yml');
  const overrides: Record<string, Record<string, unknown>> = {
    mosquitto: { volumes: [`${authDir}:/mosquitto/auth`] },
    orchestrator: { volumes: [`${traceDir}:/traces:ro`], environment: { GG_CARBON_TRACES_DIR: '/traces' } },
  };
  for (const [service, fields] of Object.entries(options.services ?? {}))
    overrides[service] = { ...overrides[service], ...fields };
  const writeOverride = () => writeFile(overrideFile, JSON.stringify({ services: overrides }, null, 2)); // JSON is YAML
  await writeOverride();

  const files = [path.join(repoRoot, 'docker-compose.yml'), ...(options.files ?? []), overrideFile];
  const project = await composeProject({ name, projectDir: repoRoot, files, envFile });
  /** Runs a script of deploy/ops/ on this project, as an operator would from the repository. */
  const ops = async (script: string, args: readonly string[], timeoutMs: number): Promise<string> => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      COMPOSE: project.command.join(' '),
      ENV_FILE: envFile,
    };
    if (process.env.DOCKER_HOST !== undefined) env.DOCKER_HOST = process.env.DOCKER_HOST;
    const result = await runCommand('bash', [path.join(repoRoot, 'deploy', 'ops', script), ...args], {
      env,
      timeoutMs,
    });
    return result.stderr;
  };

  // Fixed ports, since they must survive a container's restart; taken only just before `up`, so that no other
  // test takes them during a build. PostgreSQL gets one too: the tests read what was graded.
  const fixPorts = async () => {
    const ports = { mqtt: await freePort(), temporal: await freePort(), ui: await freePort(), pg: await freePort() };
    await setEnvValues(envFile, { MQTT_PORT: ports.mqtt, TEMPORAL_PORT: ports.temporal, TEMPORAL_UI_PORT: ports.ui });
    overrides.postgres = { ...overrides.postgres, ports: [`127.0.0.1:${String(ports.pg)}:5432`] };
    await writeOverride();
    return ports;
  };
  const temporalEndpoints = (ports: { temporal: number; pg: number }, env: ReadonlyMap<string, string>) => {
    const database = (db: string) =>
      `postgres://${env.get('POSTGRES_USER') ?? ''}:${env.get('POSTGRES_PASSWORD') ?? ''}@127.0.0.1:${String(ports.pg)}/${db}`;
    return {
      databaseUrl: database('greengrader'),
      temporalVisibilityUrl: database('temporal_visibility'),
      temporalAddress: `127.0.0.1:${String(ports.temporal)}`,
    };
  };
  const makeSecrets = async () => {
    await ops('make-secrets.sh', [], 5 * 60_000);
    return readEnvFile(envFile);
  };

  return {
    project,
    standIns,
    envFile,
    settings: () => readEnvFile(envFile),
    traceDir,
    ops,
    setEnv: (values) => setEnvValues(envFile, values),
    async setRelease(release) {
      for (const [service, fields] of Object.entries(releaseOverrides(release)))
        overrides[service] = { ...overrides[service], ...fields };
      await writeOverride();
    },
    async buildRelease(release) {
      const releaseFile = path.join(workDir, `docker-compose.${release}.yml`);
      await writeFile(releaseFile, JSON.stringify({ services: releaseOverrides(release) }, null, 2));
      const building = await composeProject({
        name,
        projectDir: repoRoot,
        files: [...files, releaseFile],
        envFile,
      });
      await building.run(['build', ...Object.keys(releaseOverrides(release))], 20 * 60_000);
    },
    async up() {
      // Secrets and the broker's two logins exactly as deploy/README.md has the operator make them.
      const env = await makeSecrets();
      // A cold build of greengrader's image runs `npm ci` against the registry: minutes.
      await project.run(['build', ...(options.build ?? builtServices)], 20 * 60_000);
      const ports = await fixPorts();
      await project.run(['up', '-d', ...(options.start ?? composeServices)], 10 * 60_000);
      return {
        ...temporalEndpoints(ports, env),
        publisher: {
          url: `mqtt://127.0.0.1:${String(ports.mqtt)}`,
          username: env.get('MQTT_PUBLISHER_USERNAME') ?? '',
          password: env.get('MQTT_PUBLISHER_PASSWORD') ?? '',
          topic: 'submissions',
        },
      };
    },
    async upTemporal() {
      const env = await makeSecrets();
      const ports = await fixPorts();
      await project.run(['up', '-d', ...temporalServices], 10 * 60_000);
      return temporalEndpoints(ports, env);
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
