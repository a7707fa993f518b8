import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createConfiguredProviders } from '../carbon/configured-providers.js';
import type { CarbonProvider } from '../carbon/provider.js';
import { loadRegionsConfig, type RegionsConfig } from '../carbon/regions.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import { createTemporalLogger } from '../observability/temporal-logger.js';
import { connectDatabase, type DatabaseHandle } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';

/**
 * Sends Temporal's own logs (worker lifecycle, workflow bundling, activity context loggers) through our
 * JSON logger. Must run before anything creates a worker or a native connection.
 */
export function installTemporalLogging(logger: Logger): void {
  Runtime.install({ logger: createTemporalLogger(logger) });
}

/** Opens the database (migrating it) for an entry point. */
export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  const handle = connectDatabase(config.DATABASE_URL);
  await migrateDatabase(handle.pool);
  return handle;
}

export async function connectTemporalClient(config: Config): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  return { client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), close: () => connection.close() };
}

export function connectWorkerConnection(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
}

/** Resolves on the first SIGINT or SIGTERM, so entry points can shut down in order. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * Asks a worker to finish. Temporal's runtime also shuts workers down on SIGINT/SIGTERM by itself,
 * so a worker may already be stopping: that is fine here.
 */
export function shutdownWorker(worker: { shutdown(): void }): void {
  try {
    worker.shutdown();
  } catch (error) {
    if (!(error instanceof Error && error.name === 'IllegalStateError')) throw error;
  }
}

/** The regions file and the carbon providers the orchestrator plans with. */
export async function loadCarbonSetup(
  config: Config,
  logger: Logger,
): Promise<{ regions: RegionsConfig; carbonProviders: CarbonProvider[] }> {
  const regions = await loadRegionsConfig(config.REGIONS_FILE);
  const carbonProviders = await createConfiguredProviders(config, regions, logger);
  logger.info('carbon providers', { providers: carbonProviders.map((p) => p.name), policy: config.PLACEMENT_POLICY });
  return { regions, carbonProviders };
}

/**
 * This process's Prometheus endpoint on METRICS_HOST:METRICS_PORT (0 turns it off). A port already taken
 * (two processes on one host with the default) costs the metrics, never the process: it is logged.
 */
export async function startProcessMetrics(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const off = { stop: () => Promise.resolve() };
  if (config.METRICS_PORT === 0) return off;
  try {
    const server = await startMetricsServer({ host: config.METRICS_HOST, port: config.METRICS_PORT });
    logger.info('metrics endpoint', { url: `${server.url}/metrics` });
    return server;
  } catch (error) {
    logger.warn('metrics endpoint not started', { error, port: config.METRICS_PORT });
    return off;
  }
}
