import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../observability/logger.js';
import type { CleanupStack } from './cleanup-stack.js';
import { openDatabase } from './open-database.js';
import { startProcessMetrics } from './process-metrics.js';
import { connectTemporalClient, connectWorkerConnection } from './temporal-connections.js';

/**
 * What several components in one process share (`up`, the tests): one pool, one worker connection, one client.
 * A component given these is embedded: the host process owns them and serves the one metrics endpoint.
 */
export interface SharedResources {
  db: Database;
  connection: NativeConnection;
  temporal: Client;
}

export type WorkerResources = Pick<SharedResources, 'db' | 'connection'>;
export type BridgeResources = Pick<SharedResources, 'db' | 'temporal'>;

/** Opens what a multi-component process shares; `cleanup` closes it. */
export async function openSharedResources(config: Config, cleanup: CleanupStack): Promise<SharedResources> {
  const db = await openDatabase(config, cleanup);
  const temporal = await connectTemporalClient(config, cleanup);
  const connection = await connectWorkerConnection(config, cleanup);
  return { db, connection, temporal };
}

/** A worker's resources: the shared ones, else its own process's database, metrics endpoint and connection. */
export async function workerResources(
  config: Config,
  logger: Logger,
  cleanup: CleanupStack,
  shared: WorkerResources | undefined,
): Promise<WorkerResources> {
  if (shared) return shared;
  const db = await openDatabase(config, cleanup);
  await startProcessMetrics(config, logger, cleanup);
  return { db, connection: await connectWorkerConnection(config, cleanup) };
}

/** The bridge's resources: the shared ones, else its own process's database, metrics endpoint and client. */
export async function bridgeResources(
  config: Config,
  logger: Logger,
  cleanup: CleanupStack,
  shared: BridgeResources | undefined,
): Promise<BridgeResources> {
  if (shared) return shared;
  const db = await openDatabase(config, cleanup);
  await startProcessMetrics(config, logger, cleanup);
  return { db, temporal: await connectTemporalClient(config, cleanup) };
}
