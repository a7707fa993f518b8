import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { NodeActivities } from '../activities/node-activities.js';
import type { PlacementActivities } from '../activities/placement-activities.js';
import type { ResultsActivities } from '../activities/results-activities.js';
import type { RunActivities } from '../activities/run-activities.js';
import type { StorageActivities } from '../activities/storage-activities.js';
import {
  INVALID_SUBMISSION_ERROR,
  NODES_EXHAUSTED_ERROR,
  type ExecutionSummary,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
  type GradingStatus,
  type Placement,
} from '../shared/grading-types.js';

export const gradingStatusQuery = defineQuery<GradingStatus>('gradingStatus');

/** Nodes tried before a run is marked failed: one bad node must not fail a submission. */
const MAX_NODES_TRIED = 3;

// Database work takes seconds; 20 attempts with backoff capped at a minute ride out ~15 min of outage.
const central = proxyActivities<RunActivities & StorageActivities & ResultsActivities>({
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
const placement = proxyActivities<PlacementActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '15 seconds' },
});

/** Routes the container work to the chosen node's own queue, with the timeouts placement computed. */
function nodeActivities(chosen: Placement) {
  return proxyActivities<NodeActivities>({
    taskQueue: chosen.taskQueue,
    // A node that never picks the run up is given up on, and another node is tried.
    scheduleToStartTimeout: `${chosen.pickupTimeoutSec} seconds`,
    startToCloseTimeout: `${chosen.runTimeoutSec} seconds`,
    // The run heartbeats every few seconds; silence this long means the node or its worker died.
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: chosen.maxAttempts },
  });
}

/** One grading journey: store, place, run on the chosen node, record. */
export async function gradeSubmissionWorkflow(input: GradeSubmissionInput): Promise<GradeSubmissionResult> {
  const status: GradingStatus = { state: 'storing', runId: null, nodeName: null, attempts: 0, lastError: null };
  setHandler(gradingStatusQuery, () => status);

  const runId = await central.openRun({ workflowId: workflowInfo().workflowId, ...input });
  status.runId = runId;
  const finish = (result: Omit<GradeSubmissionResult, 'runId'>): GradeSubmissionResult => {
    status.state = result.state;
    return { ...result, runId };
  };

  try {
    let stored;
    try {
      stored = await central.storeSubmission({ payloadSha256: input.payloadSha256, runId });
    } catch (error) {
      const reason = invalidSubmissionReason(error);
      if (reason === null) throw error;
      status.lastError = reason;
      return finish({ state: 'rejected', outcome: null, score: null, nodeName: null, reason });
    }

    const excludeNodes: string[] = [];
    let execution: ExecutionSummary | null = null;
    while (execution === null) {
      status.state = 'placing';
      const chosen = excludeNodes.length < MAX_NODES_TRIED ? await placeOrGiveUp(runId, excludeNodes) : null;
      if (chosen === null) {
        const reason = `no node could run it (tried ${excludeNodes.join(', ')}); last error: ${status.lastError}`;
        await central.failRun({ runId, reason });
        return finish({ state: 'failed', outcome: 'infrastructure-failure', score: null, nodeName: null, reason });
      }
      status.state = 'running';
      status.nodeName = chosen.nodeName;
      status.attempts += 1;
      try {
        execution = await nodeActivities(chosen).runAutograder({ runId, submissionId: stored.submissionId });
      } catch (error) {
        if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
        status.lastError = describeNodeFailure(chosen, error);
        excludeNodes.push(chosen.nodeName);
      }
    }

    status.state = 'recording';
    const result = await central.recordResults({ runId, execution });
    return finish({ ...result, state: 'completed' });
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => central.failRun({ runId, reason: 'cancelled by an operator' }));
    }
    throw error;
  }
}

/** The next node to try, or null once every live node has failed this run. */
async function placeOrGiveUp(runId: string, excludeNodes: string[]): Promise<Placement | null> {
  try {
    return await placement.placeRun({ runId, excludeNodes });
  } catch (error) {
    if (applicationFailureMessage(error, NODES_EXHAUSTED_ERROR) !== null) return null;
    throw error;
  }
}

function invalidSubmissionReason(error: unknown): string | null {
  return applicationFailureMessage(error, INVALID_SUBMISSION_ERROR);
}

function applicationFailureMessage(error: unknown, type: string): string | null {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === type) return cause.message;
  return null;
}

function describeNodeFailure(chosen: Placement, error: ActivityFailure): string {
  const cause = error.cause;
  if (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
    return `node ${chosen.nodeName} did not pick the run up within ${chosen.pickupTimeoutSec} s`;
  }
  return `node ${chosen.nodeName} failed ${chosen.maxAttempts} attempts: ${cause?.message ?? error.message}`;
}
