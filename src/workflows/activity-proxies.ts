import { proxyActivities } from '@temporalio/workflow';
import type { CarbonActivities } from '../activities/carbon-activities.js';
import type { NodeActivities } from '../activities/node-activities.js';
import type { PlacementActivities } from '../activities/placement-activities.js';
import type { ResultsActivities } from '../activities/results-activities.js';
import type { RunActivities } from '../activities/run-activities.js';
import type { SlotActivities } from '../activities/slot-activities.js';
import type { StorageActivities } from '../activities/storage-activities.js';
import { INVALID_SUBMISSION_ERROR, type Placement } from '../shared/grading-types.js';

// The workflow's view of its activities: each proxy carries the timeout and retry decisions for one kind of work.

// Database work takes seconds; 20 attempts with backoff capped at a minute ride out ~15 min of outage.
export const central = proxyActivities<RunActivities & StorageActivities & ResultsActivities & CarbonActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [INVALID_SUBMISSION_ERROR],
  },
});

// Waiting for a node to check in is expected after a restart; after an hour an operator must look.
export const placement = proxyActivities<PlacementActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '15 seconds' },
});

// Claiming or releasing a slot is one short transaction; a database outage is ridden out as for placement.
export const slots = proxyActivities<SlotActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds' },
});

// A carbon API gets three quick tries; then the next provider is asked. Grading never waits long on one.
export const carbon = proxyActivities<CarbonActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** Routes the container work to the chosen node's own queue, with the timeouts placement computed. */
export function nodeActivities(chosen: Placement) {
  return proxyActivities<NodeActivities>({
    taskQueue: chosen.taskQueue,
    // A node that never picks the run up is given up on, and another node is tried.
    scheduleToStartTimeout: `${chosen.pickupTimeoutSec} seconds`,
    startToCloseTimeout: `${chosen.runTimeoutSec} seconds`,
    // The run heartbeats every few seconds; silence this long means the node or its worker died. Only the value
    // changes with NODE_HEARTBEAT_TIMEOUT_SEC (no command is added), so earlier histories replay unchanged.
    heartbeatTimeout: `${String(chosen.heartbeatTimeoutSec ?? 30)} seconds`,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: chosen.maxAttempts },
  });
}
