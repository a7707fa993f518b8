import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../config/config.js';
import { startDashboard } from '../../dashboard/server.js';
import type { Logger } from '../../observability/logger.js';
import { createNodeWorker } from '../../workers/node-worker.js';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker.js';
import { CliError } from '../errors.js';
import { writeProgress } from '../output/write.js';
import { runBridge } from '../run-bridge.js';
import {
  connectTemporalClient,
  connectWorkerConnection,
  loadCarbonSetup,
  openDatabase,
  shutdownWorker,
  startProcessMetrics,
} from '../runtime.js';
import { announce } from './announce.js';
import { startLocalServices } from './start-services.js';
import type { UpOptions } from './up-options.js';

/** How long a stop waits for the bridge to store messages the embedded broker already acknowledged. */
const DRAIN_TIMEOUT_MS = 10_000;
/** A bridge that cannot subscribe by then (wrong MQTT credentials, no broker) fails `up` instead of hanging it. */
const BRIDGE_READY_TIMEOUT_MS = 30_000;
/** 128 + SIGINT, as a shell reports a process stopped by Ctrl-C. */
const INTERRUPTED_EXIT_CODE = 130;

/**
 * Everything on one machine: the services the environment does not name, then the orchestrator, a node
 * worker for this machine, the bridge and the dashboard. Runs until `stopRequested` resolves (the first Ctrl-C) or a
 * worker dies, then stops everything in reverse order. Resolves when all of it has stopped.
 */
export async function runUp(options: UpOptions, logger: Logger, stopRequested: Promise<unknown>): Promise<void> {
  await mkdir(options.dataDir, { recursive: true });
  const services = await startLocalServices(process.env, options, logger);
  // What started first (workers, bridge) must be stopped first: cleanup runs in reverse.
  const cleanup: { what: string; stop: () => Promise<void> }[] = [];
  const stopApplication = async (): Promise<void> => {
    for (const { what, stop } of cleanup.splice(0).reverse()) {
      await stop().catch((error: unknown) => logger.error(`stopping ${what} failed`, { error }));
    }
  };
  try {
    const config = loadConfig(services.env);
    writeProgress('starting the orchestrator, a node worker, the bridge and the dashboard…');
    const database = await openDatabase(config);
    cleanup.push({ what: 'database pool', stop: () => database.close() });
    const temporal = await connectTemporalClient(config);
    cleanup.push({ what: 'Temporal client', stop: () => temporal.close() });
    const connection = await connectWorkerConnection(config);
    cleanup.push({ what: 'worker connection', stop: () => connection.close() });

    const carbon = await loadCarbonSetup(config, logger);
    const orchestrator = await createOrchestratorWorker({ connection, db: database.db, config, ...carbon });
    const node = await createNodeWorker({ connection, db: database.db, config, logger });
    // Workers stop on shutdown: with no grace time, a running grader is cancelled and its container removed.
    const running = Promise.all([orchestrator.run(), node.run()]);
    const workersEnded = running.then(
      () => 'workers ended' as const,
      (error: unknown) => error,
    );
    cleanup.push({
      what: 'workers',
      stop: async () => {
        shutdownWorker(orchestrator);
        shutdownWorker(node);
        await running;
      },
    });

    const bridge = runBridge(config, database.db, temporal.client, logger);
    cleanup.push({ what: 'bridge', stop: () => bridge.stop() });
    const broker = services.broker;
    if (broker !== null) {
      cleanup.push({
        what: 'MQTT intake',
        stop: async () => {
          // Publishers got PUBACK from the broker; the bridge stores each before it acknowledges. An in-memory
          // broker loses what the bridge has not stored yet, so let it finish before anything stops.
          broker.refuseNewConnections();
          const left = await broker.waitUntilAcknowledged(config.MQTT_TOPIC, config.MQTT_CLIENT_ID, DRAIN_TIMEOUT_MS);
          if (left > 0) logger.warn('stopping with messages the bridge has not stored; they are lost', { left });
        },
      });
    }
    await untilReady(bridge.ready, stopRequested, workersEnded, config.MQTT_URL);

    // The dashboard: read-only pages over the run rows (src/dashboard), on DASHBOARD_HOST:DASHBOARD_PORT.
    const dashboard = await startDashboard({
      db: database.db,
      ...carbon,
      host: config.DASHBOARD_HOST,
      port: config.DASHBOARD_PORT,
      logger,
    });
    cleanup.push({ what: 'dashboard', stop: () => dashboard.stop() });
    // One Prometheus endpoint for the whole process: every component of `up` shares its registry.
    const metricsEndpoint = await startProcessMetrics(config, logger);
    cleanup.push({ what: 'metrics endpoint', stop: () => metricsEndpoint.stop() });
    const addresses = [
      ...services.addresses,
      { service: 'dashboard', where: dashboard.url, origin: 'started' as const },
    ];

    await announce(config, addresses, node.nodeName, options.dataDir);
    const outcome = await Promise.race([stopRequested.then(() => 'stop' as const), workersEnded]);
    if (outcome === 'stop') writeProgress('stopping GreenGrader (Ctrl-C again to exit at once)…');
    else logger.error('a worker stopped on its own; stopping everything', { error: outcome });
    if (outcome !== 'stop') throw outcome instanceof Error ? outcome : new Error('a worker stopped on its own');
  } finally {
    // The application first (it still needs the services to finish cleanly), then the services.
    await stopApplication();
    await services.stopAll();
  }
  writeProgress('stopped.');
}

/**
 * Waits for the bridge's subscription, but gives up on a Ctrl-C, a worker dying, or a broker that does not
 * let the bridge in: each of those must not leave `up` hanging half-started.
 */
async function untilReady(
  ready: Promise<void>,
  stopRequested: Promise<unknown>,
  workersEnded: Promise<unknown>,
  mqttUrl: string,
): Promise<void> {
  const cancelTimer = new AbortController();
  const timeout = sleep(BRIDGE_READY_TIMEOUT_MS, 'timeout' as const, { signal: cancelTimer.signal }).catch(
    () => 'cancelled' as const,
  );
  const first = await Promise.race([
    ready.then(() => 'ready' as const),
    stopRequested.then(() => 'stop' as const),
    workersEnded.then(() => 'workers' as const),
    timeout,
  ]);
  cancelTimer.abort();
  if (first === 'ready') return;
  if (first === 'timeout') {
    throw new CliError(
      `the bridge could not subscribe at ${mqttUrl} within ${BRIDGE_READY_TIMEOUT_MS / 1000} s (check MQTT_USERNAME/MQTT_PASSWORD; the log above has the broker's answer)`,
    );
  }
  if (first === 'stop') throw new CliError('interrupted while starting', INTERRUPTED_EXIT_CODE);
  throw new CliError('a worker stopped while starting');
}
