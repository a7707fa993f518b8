import { Client } from '@temporalio/client';
import type { CleanupStack } from '../../../src/app/cleanup-stack.js';
import { connectTemporalClient } from '../../../src/app/temporal-connections.js';
import { startWorkflowStarter, type RunningWorkflowStarter } from '../../../src/bridge/workflow-starter.js';
import { loadConfig } from '../../../src/config/config.js';
import type { Database } from '../../../src/db/client.js';
import { createLogger } from '../../../src/observability/logger.js';
import { metrics } from '../../../src/observability/metrics.js';
import { startStandInWorker } from './stand-in-worker.js';

/** Starts this process's bridge saw come back eager so far (the process-wide counter). */
export async function eagerStarts(): Promise<number> {
  return (await metrics.workflowsStartedEagerly.get()).values[0]?.value ?? 0;
}

/**
 * The bridge's starter as `up` wires it: the outage-tuned client plus a client on the connection a worker of this
 * process (a stand-in for the orchestrator) polls `taskQueue` on, so its starts may go eagerly.
 */
export async function startEagerStarter(address: string, db: Database, taskQueue: string, cleanup: CleanupStack) {
  const worker = await startStandInWorker(address, taskQueue, cleanup);
  const temporal = await connectTemporalClient(loadConfig({ TEMPORAL_ADDRESS: address }), cleanup);
  const starter: RunningWorkflowStarter = startWorkflowStarter({
    db,
    temporal,
    localWorkerClient: new Client({ connection: worker.connection }),
    taskQueue,
    logger: createLogger({}, () => undefined),
  });
  cleanup.push('starter', () => starter.stop());
  return { starter, worker, temporal };
}
