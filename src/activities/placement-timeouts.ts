import type { Config } from '../config/config.js';
import type { Placement } from '../shared/grading-types.js';
import type { LiveNode } from './live-nodes.js';

/** Headroom over build + grader time for copying files in and results out. */
const RUN_MARGIN_SEC = 120;

/** The node a run was placed on, with the timeouts its grading activity gets there. */
export function placementFor(config: Config, node: Omit<LiveNode, 'activeRuns'>): Placement {
  return {
    nodeName: node.name,
    taskQueue: node.taskQueue,
    region: node.region,
    zone: node.zone,
    runTimeoutSec: config.IMAGE_BUILD_TIMEOUT_SEC + config.GRADER_TIMEOUT_SEC + RUN_MARGIN_SEC,
    pickupTimeoutSec: config.NODE_PICKUP_TIMEOUT_SEC,
    maxAttempts: config.INFRA_MAX_ATTEMPTS,
  };
}
