import type { Config } from '../config/config.js';
import type { Placement } from '../shared/grading-types.js';
import type { LiveNode } from './live-nodes.js';

/** Headroom over build + grader time for copying files in and results out. */
const RUN_MARGIN_SEC = 120;

/**
 * Graders a prefetched run may wait behind on its node before its own starts: its slots serve the waiting runs
 * first come, first served, so with P prefetched runs over S slots at most ceil(P / S) graders end first.
 */
function slotWaits(node: { maxConcurrentRuns: number; prefetchRuns: number }): number {
  return Math.ceil(node.prefetchRuns / Math.max(node.maxConcurrentRuns, 1));
}

/** The node a run was placed on, with the timeouts its grading activity gets there. */
export function placementFor(config: Config, node: Omit<LiveNode, 'activeRuns'>): Placement {
  return {
    nodeName: node.name,
    taskQueue: node.taskQueue,
    region: node.region,
    zone: node.zone,
    runTimeoutSec: config.IMAGE_BUILD_TIMEOUT_SEC + config.GRADER_TIMEOUT_SEC * (1 + slotWaits(node)) + RUN_MARGIN_SEC,
    pickupTimeoutSec: config.NODE_PICKUP_TIMEOUT_SEC,
    heartbeatTimeoutSec: config.NODE_HEARTBEAT_TIMEOUT_SEC,
    maxAttempts: config.INFRA_MAX_ATTEMPTS,
  };
}
