import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBridgeProcess } from '../../app/bridge-process.js';
import { loadCarbonSetup } from '../../app/carbon-setup.js';
import { CleanupStack, logStopFailures } from '../../app/cleanup-stack.js';
import { startNodeWorker } from '../../app/node-worker.js';
import { startOrchestrator } from '../../app/orchestrator.js';
import { startProcessMetrics } from '../../app/process-metrics.js';
import { openSharedResources } from '../../app/resources.js';
import { loadConfig } from '../../config/config.js';
import { startDashboard } from '../../dashboard/server.js';
import type { Logger } from '../../observability/logger.js';
import { CliError } from '../errors.js';
import { writeProgress } from '../output/write.js';
import { announce } from './announce.js';
import { chooseUpRegion, describeCarbonSource } from './carbon-region.js';
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
  // Checked before anything starts: a region without a carbon zone would make every receipt "no figure".
  const upRegion = await chooseUpRegion(options.region, process.env);
  const services = await startLocalServices({ ...process.env, ...upRegion.env }, options, logger);
  // The components share one pool and one Temporal connection; what started last stops first.
  const cleanup = new CleanupStack(logStopFailures(logger));
  try {
    const config = loadConfig(services.env);
    writeProgress('starting the orchestrator, a node worker, the bridge and the dashboard…');
    const shared = await openSharedResources(config, cleanup);
    const carbon = await loadCarbonSetup(config, logger);
    // Workers stop on shutdown: with no grace time, a running grader is cancelled and its container removed.
    const orchestrator = await startOrchestrator(config, logger, { shared, carbon, eagerStartsFromLocalBridge: true });
    cleanup.push('orchestrator', () => orchestrator.stop());
    const node = await startNodeWorker(config, logger, { shared });
    cleanup.push('node worker', () => node.stop());
    // A service that keeps dying ends `up` as a dying worker does: everything stops, exit non-zero.
    const workersEnded = Promise.race([
      Promise.all([orchestrator.ended, node.ended]).then(
        () => 'workers ended' as const,
        (error: unknown) => error,
      ),
      services.failed,
    ]);

    // The orchestrator polls the bridge's task queue on the shared connection: starts hand it their first task.
    const bridge = await startBridgeProcess(config, logger, { shared, localOrchestratorConnection: shared.connection });
    cleanup.push('bridge', () => bridge.stop());
    const broker = services.broker;
    if (broker !== null) {
      cleanup.push('MQTT intake', async () => {
        // Publishers got PUBACK from the broker; the bridge stores each before it acknowledges. An in-memory
        // broker loses what the bridge has not stored yet, so let it finish before anything stops.
        broker.refuseNewConnections();
        const left = await broker.waitUntilAcknowledged(config.MQTT_TOPIC, config.MQTT_CLIENT_ID, DRAIN_TIMEOUT_MS);
        if (left > 0) logger.warn('stopping with messages the bridge has not stored; they are lost', { left });
      });
    }
    await untilReady(bridge.ready, stopRequested, workersEnded, config.MQTT_URL);

    // The dashboard: read-only pages over the run rows (src/dashboard), on DASHBOARD_HOST:DASHBOARD_PORT.
    const dashboard = await startDashboard({
      db: shared.db,
      ...carbon,
      host: config.DASHBOARD_HOST,
      port: config.DASHBOARD_PORT,
      logger,
    });
    cleanup.push('dashboard', () => dashboard.stop());
    // One Prometheus endpoint for the whole process: every component of `up` shares its registry.
    await startProcessMetrics(config, logger, cleanup);
    const addresses = [
      ...services.addresses,
      { service: 'dashboard', where: dashboard.url, origin: 'started' as const },
    ];

    const carbonSource = await describeCarbonSource(upRegion, carbon.carbonProviders, Date.now());
    await announce(config, addresses, node.nodeName, options.dataDir, carbonSource);
    // Another bridge taking this one's MQTT session (an outside DATABASE_URL and MQTT_URL) ends intake: `up` stops.
    const sessionLost = bridge.sessionLost.catch((error: unknown) => new CliError(String((error as Error).message)));
    const outcome = await Promise.race([stopRequested.then(() => 'stop' as const), workersEnded, sessionLost]);
    if (outcome === 'stop') writeProgress('stopping GreenGrader (Ctrl-C again to exit at once)…');
    // A service that gave up has been logged by its supervisor, and its message ends `up`.
    else if (!(outcome instanceof CliError))
      logger.error('a worker stopped on its own; stopping everything', { error: outcome });
    if (outcome !== 'stop') throw outcome instanceof Error ? outcome : new Error('a worker stopped on its own');
  } finally {
    // The application first (it still needs the services to finish cleanly), then the services.
    await cleanup.runAll();
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
  throw (await workersEnded) instanceof CliError ? await workersEnded : new CliError('a worker stopped while starting');
}
