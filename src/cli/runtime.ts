import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/config.js';
import { connectDatabase, type DatabaseHandle } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';

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
