import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { loadConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import {
  ensureBaseImage,
  ensureDockerEngine,
  startMosquitto,
  startPostgres,
  startTemporal,
  type RunningService,
} from '../services/index.js';
import { createNodeWorker } from '../workers/node-worker.js';
import { createOrchestratorWorker } from '../workers/orchestrator-worker.js';
import {
  connectTemporalClient,
  connectWorkerConnection,
  loadCarbonSetup,
  openDatabase,
  shutdownWorker,
  untilSignal,
} from './runtime.js';
import { runBridge } from './run-bridge.js';

/** Fixed local ports, so the printed addresses stay the same from one `up` to the next. */
const LOCAL_PORTS = { postgres: 55432, mqtt: 1883, temporal: 7233, temporalUi: 8233 };
const DEFAULT_BASE_IMAGE = 'gradescope/autograder-base:ubuntu-22.04';

/**
 * Everything on one machine: whatever service the environment does not name is started here with
 * its state under GG_DATA_DIR (default .data/), then the orchestrator, a node worker and the bridge.
 */
export async function up(logger: Logger): Promise<void> {
  const env = { ...process.env };
  const dataDir = path.resolve(env.GG_DATA_DIR ?? '.data');
  await mkdir(dataDir, { recursive: true });
  const started: RunningService[] = [];
  const stopAll = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
  };

  try {
    if (!env.DATABASE_URL) {
      const postgres = await startPostgres({ dataDir: path.join(dataDir, 'postgres'), port: LOCAL_PORTS.postgres });
      started.push(postgres);
      env.DATABASE_URL = await ensureDatabase(postgres.url, 'greengrader');
    }
    if (!env.MQTT_URL) {
      const password = await localSecret(path.join(dataDir, 'mqtt-password'));
      const broker = await startMosquitto({
        dir: path.join(dataDir, 'mosquitto'),
        port: LOCAL_PORTS.mqtt,
        username: 'greengrader',
        password,
        persistence: true,
      });
      started.push(broker);
      Object.assign(env, { MQTT_URL: broker.url, MQTT_USERNAME: broker.username, MQTT_PASSWORD: password });
    }
    let temporalUi: string | undefined;
    if (!env.TEMPORAL_ADDRESS) {
      const temporal = await startTemporal({
        dbFile: path.join(dataDir, 'temporal.sqlite'),
        port: LOCAL_PORTS.temporal,
        uiPort: LOCAL_PORTS.temporalUi,
      });
      started.push(temporal);
      env.TEMPORAL_ADDRESS = temporal.address;
      temporalUi = temporal.uiUrl;
    }
    started.push(await ensureDockerEngine());
    if (!env.AUTOGRADER_BASE_IMAGE && !(await imageExists(DEFAULT_BASE_IMAGE))) {
      // No registry to pull Gradescope's base from: a local Debian image with bash and python3 stands in.
      const local = await ensureBaseImage(undefined, { log: (line) => logger.info(line) });
      env.AUTOGRADER_BASE_IMAGE = local.tag;
      logger.warn('Gradescope base image not available; using a local stand-in', { image: local.tag });
    }

    const config = loadConfig(env);
    const database = await openDatabase(config);
    const temporal = await connectTemporalClient(config);
    const connection = await connectWorkerConnection(config);
    const orchestrator = await createOrchestratorWorker({
      connection,
      db: database.db,
      config,
      ...(await loadCarbonSetup(config, logger)),
    });
    const node = await createNodeWorker({ connection, db: database.db, config, logger });
    const bridge = runBridge(config, database.db, temporal.client, logger);
    const running = Promise.all([orchestrator.run(), node.run()]);
    await bridge.ready;

    printWhereEverythingIs(config, node.nodeName, temporalUi);
    await Promise.race([untilSignal(), running]);
    logger.info('stopping');
    await bridge.stop();
    shutdownWorker(orchestrator);
    shutdownWorker(node);
    await running;
    await connection.close();
    await temporal.close();
    await database.close();
  } finally {
    await stopAll();
  }
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

/** A random password generated once and kept, so publishers keep working across restarts. */
async function localSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(18).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
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

function printWhereEverythingIs(config: ReturnType<typeof loadConfig>, nodeName: string, temporalUi?: string): void {
  const mqtt = new URL(config.MQTT_URL);
  const lines = [
    'GreenGrader is up. Ctrl-C stops everything.',
    `  Temporal        ${config.TEMPORAL_ADDRESS}${temporalUi ? `   Web UI ${temporalUi}` : ''}`,
    `  PostgreSQL      ${redact(config.DATABASE_URL)}`,
    `  MQTT broker     ${config.MQTT_URL}   user ${config.MQTT_USERNAME}`,
    `  node worker     ${nodeName} (${config.NODE_REGION}/${config.NODE_ZONE}), base image ${config.AUTOGRADER_BASE_IMAGE}`,
    '  publish a submission:',
    `    mosquitto_pub -h ${mqtt.hostname} -p ${mqtt.port || 1883} -u ${config.MQTT_USERNAME} -P '${config.MQTT_PASSWORD}' -t ${config.MQTT_TOPIC} -q 1 -f gradescope_data.zip`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
