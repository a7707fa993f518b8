import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { CleanupStack, logStopFailures } from '../../app/cleanup-stack.js';
import { loadConfig } from '../../config/config.js';
import type { Logger } from '../../observability/logger.js';
import {
  ensureBaseImage,
  ensureDockerEngine,
  startPostgres,
  startTemporal,
  type RunningTemporal,
} from '../../services/index.js';
import { startEmbeddedBroker, type RunningEmbeddedBroker } from '../../services/embedded-broker.js';
import { PortInUseError } from '../../services/port-in-use.js';
import type { RunningPostgres } from '../../services/postgres.js';
import { redactUrl, type CliError } from '../errors.js';
import { writeProgress } from '../output/write.js';
import { checkPortsFree, portTakenError, wantedPorts } from './check-ports.js';
import { localKeyring } from './local-keyring.js';
import { localSecret } from './local-secret.js';
import { cleanUpOrphans, pidFileOf } from './owned-processes.js';
import { supervise, type ServiceRun, type Supervision } from './supervise.js';
import type { UpOptions } from './up-options.js';

/** One line of what `up` prints: a service and where to find it. */
export interface ServiceAddress {
  service: string;
  where: string;
  /** started (by `up`), given (by the environment) or running (found already running). */
  origin: 'started' | 'given' | 'running';
}

export interface LocalServices {
  /** The environment the application processes run with: what was given plus what was started. */
  env: Record<string, string | undefined>;
  addresses: ServiceAddress[];
  /** Set when `up` runs the MQTT broker itself. */
  broker: RunningEmbeddedBroker | null;
  temporalUiUrl: string | null;
  /** Resolves when a service `up` started keeps dying (see supervise.ts): `up` must then stop everything. */
  failed: Promise<CliError>;
  /** Stops what was started, last started first; idempotent. */
  stopAll(): Promise<void>;
}

const GRADESCOPE_BASE_IMAGE = 'gradescope/autograder-base:ubuntu-22.04';

/**
 * Starts every service the environment does not name (DATABASE_URL, MQTT_URL, TEMPORAL_ADDRESS), with state
 * under `options.dataDir`, plus the Docker engine and a base image. On failure, stops what it started and throws.
 */
export async function startLocalServices(
  baseEnv: Record<string, string | undefined>,
  options: UpOptions,
  logger: Logger,
): Promise<LocalServices> {
  const env = { ...baseEnv };
  const addresses: ServiceAddress[] = [];
  const started = new CleanupStack(logStopFailures(logger));
  let broker: RunningEmbeddedBroker | null = null;
  let temporalUiUrl: string | null = null;
  const supervisions: Supervision[] = [];
  const stopAll = (): Promise<void> => started.runAll();
  /** Starts a server of ours under supervision: restarted if it dies while `up` runs, stopped with the rest. */
  const startSupervised = async <T extends { logFile: string }>(
    name: string,
    start: () => Promise<T>,
    runOf: (server: T) => ServiceRun,
  ): Promise<T> => {
    const server = await step(name, start);
    const supervision = supervise(name, server.logFile, runOf(server), async () => runOf(await start()), logger);
    supervisions.push(supervision);
    started.push(name, supervision.stop);
    return server;
  };

  // Our own orphans first: they hold the very ports checked next.
  await cleanUpOrphans(options.dataDir);
  const wanted = wantedPorts(env, options);
  await checkPortsFree(wanted);
  try {
    if (env.DATABASE_URL) {
      addresses.push({ service: 'PostgreSQL', where: redactUrl(env.DATABASE_URL), origin: 'given' });
    } else {
      // A local PostgreSQL server, not PGlite: measured in docs/cli.md (PGlite's connection multiplexing
      // returned other connections' rows under concurrent load, and it needs ~20x the memory).
      // A generated password (scram-sha-256 over TCP): without one any local user could read every submission.
      const postgresOptions = {
        dataDir: path.join(options.dataDir, 'postgres'),
        port: options.postgresPort,
        pidFile: pidFileOf(options.dataDir, 'postgres'),
        password: await localSecret(path.join(options.dataDir, 'postgres-password')),
      };
      const server = await startSupervised('PostgreSQL', () => startPostgres(postgresOptions), postgresRun);
      env.DATABASE_URL = await ensureDatabase(server.url, 'greengrader');
      addresses.push({ service: 'PostgreSQL', where: redactUrl(env.DATABASE_URL), origin: 'started' });
    }

    if (!env.RETENTION_KEYS_FILE && !env.RETENTION_KEY) {
      env.RETENTION_KEYS_FILE = await localKeyring(path.join(options.dataDir, 'retention-keys'));
    }

    if (env.MQTT_URL) {
      addresses.push({ service: 'MQTT broker', where: env.MQTT_URL, origin: 'given' });
    } else {
      // Two logins: the publisher's goes into every assignment's hook, the bridge's stays on this machine.
      const config = loadConfig(env);
      const accounts = {
        bridge: {
          username: config.MQTT_USERNAME,
          password: env.MQTT_PASSWORD || (await localSecret(path.join(options.dataDir, 'mqtt-bridge-password'))),
        },
        publisher: {
          username: config.MQTT_PUBLISHER_USERNAME,
          password:
            env.MQTT_PUBLISHER_PASSWORD || (await localSecret(path.join(options.dataDir, 'mqtt-publisher-password'))),
        },
        topic: config.MQTT_TOPIC,
        bridgeClientId: config.MQTT_CLIENT_ID,
      };
      const maxPayloadBytes = config.MAX_PAYLOAD_BYTES;
      broker = await step('MQTT broker', () =>
        startEmbeddedBroker({ host: options.mqttHost, port: options.mqttPort, accounts, maxPayloadBytes }),
      );
      started.push('MQTT broker', broker.stop);
      Object.assign(env, {
        MQTT_URL: broker.url,
        MQTT_USERNAME: accounts.bridge.username,
        MQTT_PASSWORD: accounts.bridge.password,
        MQTT_PUBLISHER_USERNAME: accounts.publisher.username,
        MQTT_PUBLISHER_PASSWORD: accounts.publisher.password,
      });
      addresses.push({
        service: 'MQTT broker',
        where: `${broker.url} (embedded, publisher ${accounts.publisher.username}, bridge ${accounts.bridge.username})`,
        origin: 'started',
      });
    }

    if (!env.ANONYMISE_KEY && !env.ANONYMISE_KEY_FILE) {
      // The pseudonym key must outlive restarts, or one student would get a new pseudonym each time.
      const keyFile = path.join(options.dataDir, 'anonymise-key');
      await localSecret(keyFile);
      env.ANONYMISE_KEY_FILE = keyFile;
    }

    if (env.TEMPORAL_ADDRESS) {
      addresses.push({ service: 'Temporal', where: env.TEMPORAL_ADDRESS, origin: 'given' });
    } else {
      const temporalOptions = {
        dbFile: path.join(options.dataDir, 'temporal.sqlite'),
        port: options.temporalPort,
        uiPort: options.temporalUiPort,
        pidFile: pidFileOf(options.dataDir, 'temporal'),
      };
      const temporal = await startSupervised('Temporal dev server', () => startTemporal(temporalOptions), temporalRun);
      env.TEMPORAL_ADDRESS = temporal.address;
      temporalUiUrl = temporal.uiUrl ?? null;
      addresses.push({ service: 'Temporal', where: temporal.address, origin: 'started' });
      if (temporalUiUrl !== null)
        addresses.push({ service: 'Temporal Web UI', where: temporalUiUrl, origin: 'started' });
    }

    const engine = await step('Docker engine', () => ensureDockerEngine());
    started.push('Docker engine', engine.stop);
    addresses.push({
      service: 'Docker engine',
      where: env.DOCKER_HOST ?? '/var/run/docker.sock',
      origin: engine.started ? 'started' : 'running',
    });
    if (!env.AUTOGRADER_BASE_IMAGE && !(await imageExists(GRADESCOPE_BASE_IMAGE))) {
      // No registry to pull Gradescope's base from: a local Debian image with bash and python3 stands in.
      const local = await step('base image', () => ensureBaseImage(undefined, { log: (line) => logger.info(line) }));
      env.AUTOGRADER_BASE_IMAGE = local.tag;
      logger.warn('Gradescope base image not available; using a local stand-in', { image: local.tag });
    }
    const failed = Promise.race(supervisions.map((supervision) => supervision.gaveUp));
    return { env, addresses, broker, temporalUiUrl, failed, stopAll };
  } catch (error) {
    await stopAll();
    // Taken between the check above and the launch: the same message as the check gives.
    const want = error instanceof PortInUseError ? wanted.find((w) => w.port === error.port) : undefined;
    throw want !== undefined && error instanceof PortInUseError ? portTakenError(want, error) : error;
  }
}

function postgresRun(server: RunningPostgres): ServiceRun {
  return { pid: server.pid, exited: server.watchExit(), stop: server.stop };
}

function temporalRun(server: RunningTemporal): ServiceRun {
  return { pid: server.pid, exited: server.exited, stop: server.stop };
}

/** Runs one start-up step, telling the operator what is starting and how long it took. */
async function step<T>(what: string, start: () => Promise<T>): Promise<T> {
  const startedAt = Date.now();
  writeProgress(`starting ${what}…`);
  const result = await start();
  writeProgress(`  ${what} ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return result;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function imageExists(tag: string): Promise<boolean> {
  return new Docker()
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}
