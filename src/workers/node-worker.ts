import os from 'node:os';
import Docker from 'dockerode';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createNodeActivities } from '../activities/node-activities.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { DockerExecutor } from '../executors/docker/docker-executor.js';
import type { AutograderExecutor } from '../executors/executor.js';
import { removeLeftoverContainers } from '../executors/docker/remove-leftover-containers.js';
import type { Logger } from '../observability/logger.js';
import { nodeTaskQueue } from '../shared/grading-types.js';
import { detectNodeHardware } from './node-info.js';
import { registerNode } from './node-registration.js';

export interface NodeWorkerDeps {
  connection: NativeConnection;
  db: Database;
  config: Config;
  logger: Logger;
  docker?: Docker;
  /** Replaces the Docker executor; tests use it to inject infrastructure faults. */
  executor?: AutograderExecutor;
  /** Seconds between check-ins; a third of the liveness window by default. */
  checkInIntervalMs?: number;
}

export interface RunningNodeWorker {
  nodeName: string;
  worker: Worker;
  /** Runs until shutdown; resolves once the node has left placement. */
  run(): Promise<void>;
  shutdown(): void;
}

/** A Docker worker node: sweeps its leftovers, registers itself, then polls its own task queue. */
export async function createNodeWorker(deps: NodeWorkerDeps): Promise<RunningNodeWorker> {
  const { config, db } = deps;
  const nodeName = config.NODE_NAME || os.hostname();
  const log = deps.logger.child({ node: nodeName });
  const docker = deps.docker ?? new Docker();
  await docker.ping();

  const swept = await removeLeftoverContainers(docker, nodeName);
  if (swept.length > 0) log.warn('removed containers left by an earlier crash', { containers: swept });

  const hardware = detectNodeHardware();
  const maxConcurrentRuns = config.NODE_MAX_CONCURRENT_RUNS || hardware.cores;
  const taskQueue = nodeTaskQueue(nodeName);
  const executor =
    deps.executor ??
    new DockerExecutor(docker, {
      nodeName,
      baseImage: config.AUTOGRADER_BASE_IMAGE,
      buildNetworkMode: config.IMAGE_BUILD_NETWORK,
      buildTimeoutSec: config.IMAGE_BUILD_TIMEOUT_SEC,
    });
  const worker = await Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    activities: createNodeActivities(db, executor, config),
    maxConcurrentActivityTaskExecutions: maxConcurrentRuns,
  });
  const registration = await registerNode(
    db,
    { name: nodeName, taskQueue, region: config.NODE_REGION, zone: config.NODE_ZONE, maxConcurrentRuns },
    hardware,
    { checkInIntervalMs: deps.checkInIntervalMs ?? (config.NODE_LIVENESS_SEC * 1000) / 3, logger: log },
  );
  log.info('node worker registered', { taskQueue, maxConcurrentRuns, ...hardware });
  return {
    nodeName,
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await registration.stop();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}
