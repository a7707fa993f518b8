import { Client } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { createOrchestratorWorker } from '../workers/orchestrator-worker.js';
import { signalSlotFreed } from '../workers/signal-slot-freed.js';
import { watchSilentNodes } from '../workers/silent-node-watch.js';
import { loadCarbonSetup, type CarbonSetup } from './carbon-setup.js';
import { CleanupStack, logStopFailures } from './cleanup-stack.js';
import { loadRetentionKeyring } from './retention-keyring.js';
import { workerResources, type WorkerResources } from './resources.js';
import { superviseWorker, type RunningComponent } from './supervise-worker.js';

export interface OrchestratorOptions {
  /** The host process's pool and connection; without them the orchestrator opens its own and serves metrics. */
  shared?: WorkerResources;
  /** Regions and carbon providers; default: loaded from the configuration. */
  carbon?: CarbonSetup;
  /** A prebuilt bundle saves the webpack step when several orchestrators start in one process (tests). */
  workflowBundle?: WorkflowBundle;
  /** A bridge in this process starts workflows eagerly through the shared connection (`up`): leave it slots. */
  eagerStartsFromLocalBridge?: boolean;
}

/** The orchestrator: runs the workflows and every activity that is not tied to a node. */
export async function startOrchestrator(
  config: Config,
  logger: Logger,
  options: OrchestratorOptions = {},
): Promise<RunningComponent> {
  const cleanup = new CleanupStack(logStopFailures(logger));
  return cleanup.unwindOnFailure(async () => {
    const keyring = await loadRetentionKeyring(config, logger);
    const { db, connection } = await workerResources(config, logger, cleanup, options.shared);
    const carbon = options.carbon ?? (await loadCarbonSetup(config, logger));
    const { workflowBundle, eagerStartsFromLocalBridge } = options;
    // The worker's own connection serves the client too: reconciliation only describes workflows and schedules.
    const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const worker = await createOrchestratorWorker({
      ...{ connection, temporal, db, config, keyring },
      ...carbon,
      workflowBundle,
      eagerStartsFromLocalBridge,
    });
    // A node that dies frees no slot: without this its queued runs would notice only at their fallback poll.
    const silentNodes = watchSilentNodes(db, config, signalSlotFreed(temporal), logger);
    cleanup.push('silent-node watch', () => silentNodes.stop());
    return superviseWorker(worker, cleanup);
  });
}
