import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { CleanupStack, logStopFailures } from '../../app/cleanup-stack.js';
import type { Logger } from '../../observability/logger.js';
import {
  ensureBaseImage,
  ensureDockerEngine,
  startPostgres,
  startTemporal,
  type RunningService,
} from '../../services/index.js';
import { startEmbeddedBroker, type RunningEmbeddedBroker } from '../../services/embedded-broker.js';
import { redactUrl } from '../errors.js';
import { writeProgress } from '../output/write.js';
import { localSecret } from './local-secret.js';
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
  const stopAll = (): Promise<void> => started.runAll();

  try {
    if (env.DATABASE_URL) {
      addresses.push({ service: 'PostgreSQL', where: redactUrl(env.DATABASE_URL), origin: 'given' });
    } else {
      // A local PostgreSQL server, not PGlite: measured in docs/cli.md (PGlite's connection multiplexing
      // returned other connections' rows under concurrent load, and it needs ~20x the memory).
      const database = await step('PostgreSQL', () => startLocalPostgres(options));
      started.push('PostgreSQL', database.stop);
      env.DATABASE_URL = database.url;
      addresses.push({ service: 'PostgreSQL', where: redactUrl(database.url), origin: 'started' });
    }

    if (env.MQTT_URL) {
      addresses.push({ service: 'MQTT broker', where: env.MQTT_URL, origin: 'given' });
    } else {
      const username = env.MQTT_USERNAME || 'greengrader';
      const password = env.MQTT_PASSWORD || (await localSecret(path.join(options.dataDir, 'mqtt-password')));
      broker = await step('MQTT broker', () =>
        startEmbeddedBroker({ host: options.mqttHost, port: options.mqttPort, username, password }),
      );
      started.push('MQTT broker', broker.stop);
      Object.assign(env, { MQTT_URL: broker.url, MQTT_USERNAME: username, MQTT_PASSWORD: password });
      addresses.push({
        service: 'MQTT broker',
        where: `${broker.url} (embedded, user ${username})`,
        origin: 'started',
      });
    }

    if (env.TEMPORAL_ADDRESS) {
      addresses.push({ service: 'Temporal', where: env.TEMPORAL_ADDRESS, origin: 'given' });
    } else {
      const temporal = await step('Temporal', () =>
        startTemporal({
          dbFile: path.join(options.dataDir, 'temporal.sqlite'),
          port: options.temporalPort,
          uiPort: options.temporalUiPort,
        }),
      );
      started.push('Temporal', temporal.stop);
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
    return { env, addresses, broker, temporalUiUrl, stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The cluster in GG_DATA_DIR/postgres (initialised on first use) and its `greengrader` database. */
async function startLocalPostgres(options: UpOptions): Promise<RunningService & { url: string }> {
  const server = await startPostgres({ dataDir: path.join(options.dataDir, 'postgres'), port: options.postgresPort });
  try {
    return { url: await ensureDatabase(server.url, 'greengrader'), stop: server.stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
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
