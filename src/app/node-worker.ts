import type { Config } from '../config/config.js';
import type { AutograderExecutor } from '../executors/executor.js';
import type { Logger } from '../observability/logger.js';
import { createNodeWorker, type NodeKind } from '../workers/node-worker.js';
import { CleanupStack, logStopFailures } from './cleanup-stack.js';
import { workerResources, type WorkerResources } from './resources.js';
import { superviseWorker, type RunningComponent } from './supervise-worker.js';

export interface NodeWorkerOptions {
  /** The host process's pool and connection; without them the node opens its own and serves metrics. */
  shared?: WorkerResources;
  /** Replaces the default name (`NODE_NAME` or the hostname; `k8s-REGION[.ZONE]` for a region). */
  nodeName?: string;
  /** Replaces the executor the kind implies; tests use it to inject infrastructure faults. */
  executor?: AutograderExecutor;
  /** Milliseconds between check-ins; a third of the liveness window by default. */
  checkInIntervalMs?: number;
}

/** A placement candidate: runs the graders placement sends to its task queue. */
export interface RunningNode extends RunningComponent {
  nodeName: string;
}

/** A node that runs graders in this machine's Docker engine. */
export function startNodeWorker(config: Config, logger: Logger, options: NodeWorkerOptions = {}): Promise<RunningNode> {
  return startNode('docker', config, logger, options);
}

/** A Kubernetes region (K8S_REGION, K8S_ZONE) as one node: it runs each grader as a pod there. */
export function startK8sRegionWorker(
  config: Config,
  logger: Logger,
  options: NodeWorkerOptions = {},
): Promise<RunningNode> {
  return startNode('kubernetes', config, logger, options);
}

async function startNode(
  kind: NodeKind,
  config: Config,
  logger: Logger,
  options: NodeWorkerOptions,
): Promise<RunningNode> {
  const cleanup = new CleanupStack(logStopFailures(logger));
  return cleanup.unwindOnFailure(async () => {
    const { db, connection } = await workerResources(config, logger, cleanup, options.shared);
    const { nodeName, executor, checkInIntervalMs } = options;
    const node = await createNodeWorker({
      connection,
      db,
      config,
      logger,
      kind,
      nodeName,
      executor,
      checkInIntervalMs,
    });
    return { nodeName: node.nodeName, ...superviseWorker(node, cleanup) };
  });
}
