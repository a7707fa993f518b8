import {
  ActivityFailure,
  CancelledFailure,
  proxyActivities,
  proxyLocalActivities,
  TemporalFailure,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { CarbonActivities } from '../activities/carbon-activities.js';
import type { CombinedSteps } from '../activities/combined-steps.js';
import type { NodeActivities } from '../activities/node-activities.js';
import type { PlacementActivities } from '../activities/placement-activities.js';
import type { ResultsActivities } from '../activities/results-activities.js';
import type { RunActivities } from '../activities/run-activities.js';
import type { SlotActivities } from '../activities/slot-activities.js';
import type { StorageActivities } from '../activities/storage-activities.js';
import { INVALID_SUBMISSION_ERROR, type Placement } from '../shared/grading-types.js';

// The workflow's view of its activities: each proxy carries the timeout and retry decisions for one kind of work.

type CentralActivities = RunActivities & StorageActivities & ResultsActivities & CarbonActivities;
/** The decisions a task activity and a local one share (local ones take no task queue or heartbeat). */
type Decisions = Pick<ActivityOptions, 'startToCloseTimeout' | 'scheduleToCloseTimeout' | 'retry'>;

// Database work takes seconds; 20 attempts with backoff capped at a minute ride out ~15 min of outage.
const CENTRAL: Decisions = {
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [INVALID_SUBMISSION_ERROR],
  },
};

// Waiting for a node to check in is expected after a restart; after an hour an operator must look.
const PLACEMENT: Decisions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '15 seconds' },
};

// Claiming or releasing a slot is one short transaction; a database outage is ridden out as for placement.
const SLOTS: Decisions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds' },
};

// A carbon API gets three quick tries; then the next provider is asked. Grading never waits long on one.
const CARBON: Decisions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
};

/** The orchestrator's own activities, grouped by their timeout and retry decisions. */
export interface CentralProxies {
  central: ActivityInterfaceFor<CentralActivities>;
  placement: ActivityInterfaceFor<PlacementActivities>;
  slots: ActivityInterfaceFor<SlotActivities>;
  carbon: ActivityInterfaceFor<CarbonActivities>;
}

/** Each call a task the server dispatches: how runs started before the local-activities patch go on. */
export const taskActivities: CentralProxies = {
  central: proxyActivities<CentralActivities>(CENTRAL),
  placement: proxyActivities<PlacementActivities>(PLACEMENT),
  slots: proxyActivities<SlotActivities>(SLOTS),
  carbon: proxyActivities<CarbonActivities>(CARBON),
};

/**
 * The same activities run by the orchestrator's workflow worker itself, within the workflow task that calls them:
 * one marker in the history instead of a scheduled/started/completed round trip and a workflow task each. The
 * timeouts and retries are the same (a retry whose backoff passes a minute waits on a durable timer).
 */
export const localActivities: CentralProxies = {
  central: failingAsTasks(proxyLocalActivities<CentralActivities>(CENTRAL)),
  placement: failingAsTasks(proxyLocalActivities<PlacementActivities>(PLACEMENT)),
  slots: failingAsTasks(proxyLocalActivities<SlotActivities>(SLOTS)),
  carbon: failingAsTasks(proxyLocalActivities<CarbonActivities>(CARBON)),
};

/** Steps a run takes back to back, each one local activity under the decisions of the work it does. */
export interface StepProxies {
  openAndStoreRun: ActivityInterfaceFor<CombinedSteps>['openAndStoreRun'];
  planRun: ActivityInterfaceFor<CombinedSteps>['planRun'];
  finishRun: ActivityInterfaceFor<CombinedSteps>['finishRun'];
}

const centralSteps = failingAsTasks(proxyLocalActivities<CombinedSteps>(CENTRAL));
export const localSteps: StepProxies = {
  openAndStoreRun: centralSteps.openAndStoreRun,
  planRun: failingAsTasks(proxyLocalActivities<CombinedSteps>(PLACEMENT)).planRun,
  finishRun: centralSteps.finishRun,
};

/**
 * A failed local activity rejects with its cause alone (the SDK's core reports no ActivityFailure around it); the
 * workflow's handling (and its status lines, "storeSubmission failed: …") expects one, as from a task activity.
 */
function failingAsTasks<T extends object>(activities: T): T {
  return new Proxy(activities, {
    get(target, name: string) {
      const call = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        try {
          return await call(...args);
        } catch (error) {
          if (!(error instanceof TemporalFailure) || error instanceof ActivityFailure) throw error;
          if (error instanceof CancelledFailure) throw error;
          throw new ActivityFailure(
            error.message,
            name,
            undefined,
            RetryState.RETRY_STATE_UNSPECIFIED,
            undefined,
            error,
          );
        }
      };
    },
  });
}

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
