import {
  ActivityFailure,
  CancellationScope,
  ContinueAsNew,
  makeContinueAsNewFunc,
  defineQuery,
  defineSignal,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  CANCELLED_REASON,
  INVALID_SUBMISSION_ERROR,
  SLOT_FREED_SIGNAL,
  type ExecutionSummary,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
  type GradingStatus,
  type StoredSubmissionRef,
} from '../shared/grading-types.js';
import {
  ASSIGNMENT_ID,
  COURSE_ID,
  GRADESCOPE_SUBMISSION_ID,
  GRAMS_CO2,
  NODE,
  REGION,
} from '../shared/search-attributes.js';
import type { CentralProxies } from './activity-proxies.js';
import { nodeActivities } from './activity-proxies.js';
import { applicationFailureMessage, type Visibility } from './grading-state.js';
import { describeNodeFailure, isPickupTimeout } from './node-failures.js';
import { CONTINUE_AS_NEW, planAndWait, queueForSlot, type QueueState } from './plan-and-wait.js';
import { markFailed, openAndStore } from './run-row.js';
import { chooseRunPath } from './run-path.js';

export const gradingStatusQuery = defineQuery<GradingStatus>('gradingStatus');
/** Run now: a person is waiting for this grade. Ends any wait for a greener hour. */
export const expediteSignal = defineSignal('expedite');
/** A slot this queued run may claim came free (sent by the activity that released or claimed one). */
const slotFreedSignal = defineSignal(SLOT_FREED_SIGNAL);

/** Nodes tried before a run is marked failed: one bad node must not fail a submission. */
const MAX_NODES_TRIED = 3;
/**
 * A node that failed the run gives its slot back at once (releaseRun), instead of counting it as busy until
 * another node claims the run. Histories from before: node-failed-other-node.json, pickup-timeout-other-node.json.
 */
const RELEASE_FAILED_NODE_PATCH = 'release-failed-node-slot';
/**
 * A workflow that fails marks its row failed with the reason, so no row stays placed/running for good (which
 * would hold its node's slot). Before this patch a failed workflow left its row as it was.
 */
const FAIL_ROW_ON_FAILURE_PATCH = 'fail-row-on-workflow-failure';
/** A live node that did not pick a run up this often in a row is given up on after all (its poller may be stuck). */
const MAX_PICKUPS_MISSED = 3;

/** One grading journey: store, plan where and when, wait for a greener hour, run on the chosen node, record. */
export async function gradeSubmissionWorkflow(input: GradeSubmissionInput): Promise<GradeSubmissionResult> {
  const { resume, ...submission } = input;
  const path = chooseRunPath();
  const { central, slots } = path.activities;
  const { visibility } = path;
  const status: GradingStatus = resume?.status ?? {
    state: 'storing',
    runId: null,
    nodeName: null,
    policy: null,
    plannedStartAt: null,
    expectedIntensityGCo2PerKwh: null,
    expedited: false,
    attempts: 0,
    lastError: null,
  };
  setHandler(gradingStatusQuery, () => status);
  setHandler(expediteSignal, () => {
    status.expedited = true;
  });
  const queue: QueueState = { woken: false, active: resume !== undefined };
  setHandler(slotFreedSignal, () => {
    queue.woken = true;
  });
  if (resume === undefined) visibility.setState(status, 'storing');

  const opening = { workflowId: workflowInfo().workflowId, ...submission };
  // With the combined steps the row is opened and the submission stored in one local activity.
  const opened = resume === undefined && path.steps ? await openAndStore(path.steps, central, opening) : null;
  const runId = resume?.runId ?? opened?.runId ?? (await central.openRun(opening));
  status.runId = runId;
  const finish = (result: Omit<GradeSubmissionResult, 'runId'>): GradeSubmissionResult => {
    visibility.setState(status, result.state);
    return { ...result, runId };
  };

  try {
    let stored: StoredSubmissionRef;
    if (resume !== undefined) {
      stored = resume.stored;
    } else if (opened !== null && 'rejected' in opened) {
      status.lastError = opened.rejected;
      return finish({ state: 'rejected', outcome: null, score: null, nodeName: null, reason: opened.rejected });
    } else {
      try {
        stored = opened?.stored ?? (await central.storeSubmission({ payloadSha256: input.payloadSha256, runId }));
      } catch (error) {
        const reason = applicationFailureMessage(error, INVALID_SUBMISSION_ERROR);
        if (reason === null) throw error;
        status.lastError = reason;
        return finish({ state: 'rejected', outcome: null, score: null, nodeName: null, reason });
      }
      visibility.upsert([
        { key: GRADESCOPE_SUBMISSION_ID, value: stored.gradescopeSubmissionId },
        { key: ASSIGNMENT_ID, value: stored.assignmentId },
        { key: COURSE_ID, value: stored.courseId },
      ]);
    }

    const excludeNodes: string[] = resume?.excludeNodes ?? [];
    const missedPickups = new Map<string, number>(resume?.missedPickups ?? []);
    // A run continued as new was queued for a slot: it goes straight back to its place in the queue.
    let resumeQueue = resume !== undefined;
    let execution: ExecutionSummary | null = null;
    while (execution === null) {
      const chosen = resumeQueue
        ? await queueForSlot(runId, excludeNodes, status, queue, path)
        : excludeNodes.length < MAX_NODES_TRIED
          ? await planAndWait(runId, excludeNodes, status, queue, path)
          : null;
      resumeQueue = false;
      if (chosen === CONTINUE_AS_NEW) {
        // The queue row keeps the run's place; the search attributes and the memo go along.
        const { memo, typedSearchAttributes } = workflowInfo();
        const carried = { runId, stored, excludeNodes, missedPickups: [...missedPickups], status };
        const next = makeContinueAsNewFunc<typeof gradeSubmissionWorkflow>({ memo, typedSearchAttributes });
        return await next({ ...submission, resume: carried });
      }
      if (chosen === null) {
        const reason = `no node could run it (tried ${excludeNodes.join(', ') || 'none'}); last error: ${status.lastError}`;
        await central.failRun({ runId, reason });
        return finish({ state: 'failed', outcome: 'infrastructure-failure', score: null, nodeName: null, reason });
      }
      if (chosen === 'node-gone') continue;
      // On the resting-states path the node and region wait for the state: written together, in one upsert.
      if (visibility.writesEveryChange) visibility.setState(status, 'running');
      status.nodeName = chosen.nodeName;
      visibility.upsert([
        { key: NODE, value: chosen.nodeName },
        { key: REGION, value: chosen.region },
      ]);
      if (!visibility.writesEveryChange) visibility.setState(status, 'running');
      status.attempts += 1;
      try {
        execution = await nodeActivities(chosen).runAutograder({ runId, submissionId: stored.submissionId });
      } catch (error) {
        if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
        status.lastError = describeNodeFailure(chosen, error);
        if (path.patched(RELEASE_FAILED_NODE_PATCH)) await central.releaseRun({ runId, nodeName: chosen.nodeName });
        if (!queue.active) {
          excludeNodes.push(chosen.nodeName);
          continue;
        }
        const { nodeLive } = await slots.releaseSlot({ runId, nodeName: chosen.nodeName });
        const missed = (missedPickups.get(chosen.nodeName) ?? 0) + 1;
        missedPickups.set(chosen.nodeName, missed);
        // A node still checking in that did not pick the run up was busy: it goes back to the queue, not the bin.
        if (!(isPickupTimeout(error) && nodeLive && missed < MAX_PICKUPS_MISSED)) excludeNodes.push(chosen.nodeName);
        continue;
      }
      // The grader is done: its slot goes to the next run in line while this one records (finishRun records first
      // and releases in the same step, see src/activities/combined-steps.ts).
      if (queue.active && !path.steps) await slots.releaseSlot({ runId, nodeName: chosen.nodeName });
    }

    visibility.setState(status, 'recording');
    if (path.steps) {
      const finished = await path.steps.finishRun({ runId, execution });
      const failure = finished.carbonFailure;
      if (failure?.retryable) await accountCarbon(central, runId, status, visibility);
      else if (failure) status.lastError = `carbon accounting failed: ${failure.message}`;
      else if (finished.receipt) showReceipt(finished.receipt, visibility);
      return finish({ ...finished.result, state: 'completed' });
    }
    const result = await central.recordResults({ runId, execution });
    await accountCarbon(central, runId, status, visibility);
    return finish({ ...result, state: 'completed' });
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => central.failRun({ runId, reason: CANCELLED_REASON }));
    } else if (path.patched(FAIL_ROW_ON_FAILURE_PATCH)) {
      await markFailed(central, runId, error);
    }
    throw error;
  }
}

/** The run's carbon receipt, with the activity's own retries; the grade stands without it (the row has none). */
async function accountCarbon(
  central: CentralProxies['central'],
  runId: string,
  status: GradingStatus,
  visibility: Visibility,
): Promise<void> {
  try {
    showReceipt(await central.accountCarbon({ runId }), visibility);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    status.lastError = `carbon accounting failed: ${error.cause?.message ?? error.message}`;
  }
}

function showReceipt(receipt: { emissionsGCo2: number | null }, visibility: Visibility): void {
  if (receipt.emissionsGCo2 !== null) visibility.upsert([{ key: GRAMS_CO2, value: receipt.emissionsGCo2 }]);
}
