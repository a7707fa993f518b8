import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import {
  CANCELLED_REASON,
  INVALID_SUBMISSION_ERROR,
  NODE_GONE_ERROR,
  NODES_EXHAUSTED_ERROR,
  SLOT_FREED_SIGNAL,
  type ExecutionSummary,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
  type GradingStatus,
  type Placement,
} from '../shared/grading-types.js';
import type { ForecastOutcome, PlanningContext, RunPlan } from '../shared/placement-types.js';
import {
  ASSIGNMENT_ID,
  COURSE_ID,
  GRADESCOPE_SUBMISSION_ID,
  GRADING_STATE,
  GRAMS_CO2,
  LANE,
  NODE,
  REGION,
} from '../shared/search-attributes.js';
import { carbon, central, nodeActivities, placement, slots } from './activity-proxies.js';

export const gradingStatusQuery = defineQuery<GradingStatus>('gradingStatus');
/** Run now: a person is waiting for this grade. Ends any wait for a greener hour. */
export const expediteSignal = defineSignal('expedite');
/** A slot this queued run may claim came free (sent by the activity that released or claimed one). */
const slotFreedSignal = defineSignal(SLOT_FREED_SIGNAL);

/** Nodes tried before a run is marked failed: one bad node must not fail a submission. */
const MAX_NODES_TRIED = 3;
/**
 * Before 882aeb4 a plan starting within 1 s of now started at once. Runs planned by that code replay with it (see
 * test/workflows/histories/waited-before-never-early.json); drop the branch once no such run can still be open.
 */
const NEVER_EARLY_PATCH = 'never-early-start';
const LEGACY_START_TOLERANCE_MS = 1000;
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
/**
 * Busy is not dead: a run claims a free slot (or queues in its lane until one is free) instead of being sent to a
 * full node, gives the slot back as soon as its grader ends, and a live node that did not pick it up in time gets
 * it again. Before this patch runs claimed their node directly (claimNode) and a pickup timeout failed the node.
 */
const SLOT_QUEUE_PATCH = 'queue-for-slot';
/**
 * Waiting for a slot: a signal wakes the run when one comes free (the releasing or claiming activity sends it to
 * the runs first in line), so the timer is only a safety net for a lost signal or a node that just joined; it
 * backs off to a minute so a long queue costs the database a few cheap queries a second, not a storm.
 */
const SLOT_POLL_FIRST_MS = 2_000;
const SLOT_POLL_MAX_MS = 60_000;
/** A live node that did not pick a run up this often in a row is given up on after all (its poller may be stuck). */
const MAX_PICKUPS_MISSED = 3;

/** A run's part in the slot queue: whether it claims through the queue, and whether a freed slot woke it. */
interface QueueState {
  active: boolean;
  woken: boolean;
}

/** One grading journey: store, plan where and when, wait for a greener hour, run on the chosen node, record. */
export async function gradeSubmissionWorkflow(input: GradeSubmissionInput): Promise<GradeSubmissionResult> {
  const status: GradingStatus = {
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
  const queue: QueueState = { woken: false, active: false };
  setHandler(slotFreedSignal, () => {
    queue.woken = true;
  });
  setState(status, 'storing');

  const runId = await central.openRun({ workflowId: workflowInfo().workflowId, ...input });
  status.runId = runId;
  const finish = (result: Omit<GradeSubmissionResult, 'runId'>): GradeSubmissionResult => {
    setState(status, result.state);
    return { ...result, runId };
  };

  try {
    let stored;
    try {
      stored = await central.storeSubmission({ payloadSha256: input.payloadSha256, runId });
    } catch (error) {
      const reason = applicationFailureMessage(error, INVALID_SUBMISSION_ERROR);
      if (reason === null) throw error;
      status.lastError = reason;
      return finish({ state: 'rejected', outcome: null, score: null, nodeName: null, reason });
    }

    upsertSearchAttributes([
      { key: GRADESCOPE_SUBMISSION_ID, value: stored.gradescopeSubmissionId },
      { key: ASSIGNMENT_ID, value: stored.assignmentId },
      { key: COURSE_ID, value: stored.courseId },
    ]);

    const excludeNodes: string[] = [];
    const missedPickups = new Map<string, number>();
    let execution: ExecutionSummary | null = null;
    while (execution === null) {
      const chosen =
        excludeNodes.length < MAX_NODES_TRIED ? await planAndWait(runId, excludeNodes, status, queue) : null;
      if (chosen === null) {
        const reason = `no node could run it (tried ${excludeNodes.join(', ') || 'none'}); last error: ${status.lastError}`;
        await central.failRun({ runId, reason });
        return finish({ state: 'failed', outcome: 'infrastructure-failure', score: null, nodeName: null, reason });
      }
      if (chosen === 'node-gone') continue;
      setState(status, 'running');
      status.nodeName = chosen.nodeName;
      upsertSearchAttributes([
        { key: NODE, value: chosen.nodeName },
        { key: REGION, value: chosen.region },
      ]);
      status.attempts += 1;
      try {
        execution = await nodeActivities(chosen).runAutograder({ runId, submissionId: stored.submissionId });
      } catch (error) {
        if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
        status.lastError = describeNodeFailure(chosen, error);
        if (patched(RELEASE_FAILED_NODE_PATCH)) await central.releaseRun({ runId, nodeName: chosen.nodeName });
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
      // The grader is done: its slot goes to the next run in line while this one records.
      if (queue.active) await slots.releaseSlot({ runId, nodeName: chosen.nodeName });
    }

    setState(status, 'recording');
    const result = await central.recordResults({ runId, execution });
    try {
      const receipt = await central.accountCarbon({ runId });
      if (receipt.emissionsGCo2 !== null) upsertSearchAttributes([{ key: GRAMS_CO2, value: receipt.emissionsGCo2 }]);
    } catch (error) {
      // The grade stands without its carbon receipt; the run row simply has none.
      if (!(error instanceof ActivityFailure)) throw error;
      status.lastError = `carbon accounting failed: ${error.cause?.message ?? error.message}`;
    }
    return finish({ ...result, state: 'completed' });
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => central.failRun({ runId, reason: CANCELLED_REASON }));
    } else if (patched(FAIL_ROW_ON_FAILURE_PATCH)) {
      await markFailed(runId, error);
    }
    throw error;
  }
}

/**
 * Records why the workflow is about to fail. If even failRun fails (the database still away), the original error
 * is still the one the workflow fails with; the reconciliation schedule marks the row later.
 */
async function markFailed(runId: string, error: unknown): Promise<void> {
  const reason = `workflow failed: ${describeFailure(error)}`;
  try {
    await CancellationScope.nonCancellable(() => central.failRun({ runId, reason }));
  } catch (failRunError) {
    if (!(failRunError instanceof ActivityFailure)) throw failRunError;
  }
}

/**
 * Plans (node, start) with a fresh forecast, sleeps on a durable timer until the start or the next
 * forecast refresh, re-plans when it wakes, and claims the node once the start has come. Returns null
 * when every live node already failed the run, 'node-gone' when the planned node vanished meanwhile.
 */
async function planAndWait(
  runId: string,
  excludeNodes: string[],
  status: GradingStatus,
  queue: QueueState,
): Promise<Placement | 'node-gone' | null> {
  for (;;) {
    setState(status, 'planning');
    let context: PlanningContext;
    try {
      context = await placement.preparePlanning({ runId, excludeNodes, expedite: status.expedited });
    } catch (error) {
      if (applicationFailureMessage(error, NODES_EXHAUSTED_ERROR) !== null) return null;
      throw error;
    }
    const plan = await placement.choosePlacement({ runId, context, forecast: await forecastInOrder(context) });
    status.policy = plan.policy;
    status.nodeName = plan.nodeName;
    status.plannedStartAt = new Date(plan.startMs).toISOString();
    status.expectedIntensityGCo2PerKwh = plan.expectedIntensityGCo2PerKwh;
    // Never early: a plan's start is where the cleaner window begins; re-planning on waking starts it now.
    const toleranceMs = patched(NEVER_EARLY_PATCH) ? 0 : LEGACY_START_TOLERANCE_MS;
    if (status.expedited || plan.startMs <= Date.now() + toleranceMs) break;

    setState(status, 'waiting');
    await condition(() => status.expedited, wakeAfterMs(plan));
  }
  setState(status, 'placing');
  if (patched(SLOT_QUEUE_PATCH)) return queueForSlot(runId, excludeNodes, status, queue);
  try {
    return await placement.claimNode({ runId, nodeName: status.nodeName ?? '' });
  } catch (error) {
    const gone = applicationFailureMessage(error, NODE_GONE_ERROR);
    if (gone === null) throw error;
    status.lastError = gone;
    return 'node-gone';
  }
}

/**
 * Claims a slot on the planned node (or a node of its region) once one is free; until then the run is `queued` in
 * its lane. Returns 'node-gone' when the planned node stopped checking in, to plan again.
 */
async function queueForSlot(
  runId: string,
  excludeNodes: string[],
  status: GradingStatus,
  queue: QueueState,
): Promise<Placement | 'node-gone'> {
  queue.active = true;
  let pollMs = SLOT_POLL_FIRST_MS;
  for (;;) {
    queue.woken = false;
    let claim;
    try {
      claim = await slots.claimSlot({ runId, nodeName: status.nodeName ?? '', excludeNodes });
    } catch (error) {
      const gone = applicationFailureMessage(error, NODE_GONE_ERROR);
      if (gone === null) throw error;
      status.lastError = gone;
      return 'node-gone';
    }
    if (status.lane !== claim.lane) {
      status.lane = claim.lane;
      upsertSearchAttributes([{ key: LANE, value: claim.lane }]);
    }
    if (claim.kind === 'claimed') {
      status.queuePosition = null;
      return claim.placement;
    }
    // Only a change is written: each upsert is an event in the run's history.
    if (status.state !== 'queued' || status.queuePosition !== claim.position) {
      status.queuePosition = claim.position;
      setState(status, 'queued');
    }
    const woken = await condition(() => queue.woken, pollMs);
    pollMs = woken ? SLOT_POLL_FIRST_MS : Math.min(pollMs * 2, SLOT_POLL_MAX_MS);
  }
}

/** Until the planned start, or the next forecast refresh if that comes first (workflow time is durable). */
function wakeAfterMs(plan: RunPlan): number {
  const wakeAt = plan.nextPlanningMs === null ? plan.startMs : Math.min(plan.startMs, plan.nextPlanningMs);
  return Math.max(wakeAt - Date.now(), 1);
}

/** Asks each configured provider in turn; with none answering, the run goes ahead carbon-agnostic. */
async function forecastInOrder(context: PlanningContext): Promise<ForecastOutcome> {
  const attempts: ForecastOutcome['attempts'] = [];
  for (const provider of context.providers) {
    try {
      const set = await carbon.forecastCarbon({ provider, request: context.forecastRequest });
      attempts.push({ provider, ok: true, failure: null, error: null });
      return { provider, forecasts: set.forecasts, missing: set.missing, attempts, reason: null };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      attempts.push({ provider, ok: false, failure: 'unexpected', error: error.cause?.message ?? error.message });
    }
  }
  const reason =
    context.providers.length === 0
      ? 'no carbon provider configured'
      : `every carbon provider failed: ${attempts.map((a) => `${a.provider} (${a.error})`).join('; ')}`;
  return { provider: null, forecasts: [], missing: [], attempts, reason };
}

/** Keeps the query, the Web UI's GradingState column and the memo's one-line summary in step. */
function setState(status: GradingStatus, state: GradingStatus['state']): void {
  status.state = state;
  upsertSearchAttributes([{ key: GRADING_STATE, value: state }]);
  const where = status.nodeName ? ` on ${status.nodeName}` : '';
  const when = state === 'waiting' && status.plannedStartAt ? ` until ${status.plannedStartAt}` : '';
  const place =
    state === 'queued' && status.queuePosition ? ` #${status.queuePosition} in the ${status.lane} lane` : '';
  upsertMemo({ summary: `${state}${place}${where}${when}${status.lastError ? ` (${status.lastError})` : ''}` });
}

function applicationFailureMessage(error: unknown, type: string): string | null {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === type) return cause.message;
  return null;
}

function describeFailure(error: unknown): string {
  if (error instanceof ActivityFailure) return `${error.activityType} failed: ${error.cause?.message ?? error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function isPickupTimeout(error: ActivityFailure): boolean {
  return error.cause instanceof TimeoutFailure && error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

function describeNodeFailure(chosen: Placement, error: ActivityFailure): string {
  const cause = error.cause;
  if (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
    return `node ${chosen.nodeName} did not pick the run up within ${chosen.pickupTimeoutSec} s`;
  }
  // Non-retryable (an unschedulable pod, a missing image, a submission too large): one attempt, then the next node.
  if (cause instanceof ApplicationFailure && cause.nonRetryable) {
    return `node ${chosen.nodeName} cannot run it: ${cause.message}`;
  }
  return `node ${chosen.nodeName} failed ${chosen.maxAttempts} attempts: ${cause?.message ?? error.message}`;
}
