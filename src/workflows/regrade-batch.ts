import {
  CancellationScope,
  condition,
  defineQuery,
  executeChild,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RegradeActivities } from '../activities/regrade-activities.js';
import {
  GRADE_SUBMISSION_WORKFLOW,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
} from '../shared/grading-types.js';
import type { RegradeBatchInput, RegradeBatchResult, RegradeItem, RegradeTally } from '../shared/regrade-types.js';
import { ASSIGNMENT_ID, COURSE_ID } from '../shared/search-attributes.js';

/** Where the batch stands, for `temporal workflow query` and the CLI. */
export interface RegradeProgress {
  batchId: string;
  total: number;
  /** Children running now (started, not finished). */
  inFlight: number;
  /** Position of the last submission started. */
  afterPosition: number;
  tally: RegradeTally;
}

export const regradeProgressQuery = defineQuery<RegradeProgress>('regradeProgress');

// Database work takes seconds; as GradeSubmission's central activities, ~15 min of outage is ridden out.
const regrade = proxyActivities<RegradeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
  },
});

/** The parent's memo: a one-line summary and the counts, as the Web UI shows them. */
export interface RegradeMemo {
  summary: string;
  regrade: RegradeTally & {
    batchId: string;
    state: 'running' | 'continuing' | 'completed' | 'cancelled';
    total: number;
  };
}

type GradeSubmission = (input: GradeSubmissionInput) => Promise<GradeSubmissionResult>;
type ChildVerdict = 'graded' | 'failed' | 'cancelled' | 'already-started';

/**
 * Regrades every stored submission of an assignment or a course: one GradeSubmission child per submission (trigger
 * `rerun`), at most `maxInFlight` at once, started a page at a time. After `childrenPerRun` starts (or when Temporal
 * suggests it) it waits for its children and continues as new, so no run's history grows past a few thousand
 * events. Cancelling it cancels the children not yet done; children already graded stay graded.
 */
export async function regradeBatchWorkflow(input: RegradeBatchInput): Promise<RegradeBatchResult> {
  const { batchId } = input;
  const tally: RegradeTally = input.tally ?? { started: 0, graded: 0, failed: 0, cancelled: 0 };
  const total = input.total ?? (await openBatch(input));
  let afterPosition = input.afterPosition ?? 0;
  let inFlight = 0;
  setHandler(regradeProgressQuery, () => ({ batchId, total, inFlight, afterPosition, tally }));
  const memo = memoUpdater(input, total, tally);

  const gradeChild = async (item: RegradeItem): Promise<void> => {
    inFlight += 1;
    tally.started += 1;
    memo.changed();
    const verdict = await runChild(item);
    inFlight -= 1;
    if (verdict !== 'already-started') tally[verdict] += 1;
    memo.changed();
  };

  let startedThisRun = 0;
  try {
    while (afterPosition < total && startedThisRun < input.childrenPerRun && !workflowInfo().continueAsNewSuggested) {
      const limit = Math.min(input.pageSize, input.childrenPerRun - startedThisRun);
      const page = await regrade.listRegradeItems({ batchId, afterPosition, limit });
      if (page.length === 0) break;
      for (const item of page) {
        await condition(() => inFlight < input.maxInFlight);
        // Settles on its own (runChild never throws); the drain below waits for it.
        void gradeChild(item);
        afterPosition = item.position;
        startedThisRun += 1;
      }
    }
    // A run's children must be done before it continues as new: closing the run would cancel them.
    await condition(() => inFlight === 0);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // The cancellation reached every running child too; wait until each has recorded how it ended.
    await CancellationScope.nonCancellable(async () => {
      await condition(() => inFlight === 0);
      tally.cancelled += total - tally.started;
      memo.finish('cancelled');
      await regrade.finishRegradeBatch({ batchId, state: 'cancelled' });
    });
    throw error;
  }

  if (afterPosition < total) {
    // The next run starts with this run's memo and search attributes, so the Web UI never shows it blank.
    const next = makeContinueAsNewFunc<typeof regradeBatchWorkflow>({
      memo: { ...memo.finish('continuing') },
      typedSearchAttributes: workflowInfo().typedSearchAttributes,
    });
    return next({ ...input, afterPosition, total, tally });
  }
  memo.finish('completed');
  await regrade.finishRegradeBatch({ batchId, state: 'completed' });
  return { batchId, total, tally };
}

/** Records the batch and its list of submissions (first run only); tags the run for the Web UI's filters. */
async function openBatch(input: RegradeBatchInput): Promise<number> {
  const { workflowId } = workflowInfo();
  const { total } = await regrade.openRegradeBatch({
    batchId: input.batchId,
    workflowId,
    scope: input.scope,
    scopeId: input.scopeId,
  });
  upsertSearchAttributes([{ key: input.scope === 'assignment' ? ASSIGNMENT_ID : COURSE_ID, value: input.scopeId }]);
  return total;
}

/** Grades one submission as a child and says how it ended; never throws, so one child cannot fail the batch. */
async function runChild(item: RegradeItem): Promise<ChildVerdict> {
  try {
    const result = await executeChild<GradeSubmission>(GRADE_SUBMISSION_WORKFLOW, {
      workflowId: item.childWorkflowId,
      args: [{ payloadSha256: item.payloadSha256, trigger: 'rerun', receivedAt: new Date().toISOString() }],
      // Cancelling or terminating the batch asks its children to stop; completing normally leaves none behind.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      // The id is the batch's: a child that already ran for this batch is never started twice.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return result.state === 'completed' ? 'graded' : 'failed';
  } catch (error) {
    if (isCancellation(error)) return 'cancelled';
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      // Only after an operator reset this batch to before a start: the run row of that child tells its outcome.
      log.warn('regrade child already started; not counted again', { workflowId: item.childWorkflowId });
      return 'already-started';
    }
    log.warn('regrade child failed', { workflowId: item.childWorkflowId, error: String(error) });
    return 'failed';
  }
}

/**
 * The memo's one-line summary and counts, for the Web UI. Changes within one workflow task are written once (a
 * waiting coroutine runs after the task's completions), so the history grows by at most one event per task.
 */
function memoUpdater(input: RegradeBatchInput, total: number, tally: RegradeTally) {
  let dirty = true;
  let state: RegradeMemo['regrade']['state'] = 'running';
  const write = (): RegradeMemo => {
    dirty = false;
    const what = `${input.scope} ${input.scopeId}`;
    const memo: RegradeMemo = {
      summary: `regrade of ${what} ${state}: ${tally.started}/${total} started, ${tally.graded} graded, ${tally.failed} failed, ${tally.cancelled} cancelled`,
      regrade: { batchId: input.batchId, state, total, ...tally },
    };
    upsertMemo({ ...memo });
    return memo;
  };
  let open = true;
  // Not cancellable: a cancelled batch still reports its final counts through finish().
  void CancellationScope.nonCancellable(async () => {
    while (open) {
      await condition(() => dirty || !open);
      if (open) write();
    }
  });
  return {
    changed: () => (dirty = true),
    finish: (final: RegradeMemo['regrade']['state']): RegradeMemo => {
      open = false;
      state = final;
      return write();
    },
  };
}
