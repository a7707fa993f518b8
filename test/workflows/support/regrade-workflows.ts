// The bundle of the RegradeBatch tests: the real parent, and a stand-in GradeSubmission whose behaviour its
// payload id names, so paging, continue-as-new and cancellation are tested without grading anything.
import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, sleep } from '@temporalio/workflow';
import type { GradeSubmissionInput, GradeSubmissionResult } from '../../../src/shared/grading-types.js';
import type { ChildLog } from './regrade-fakes.js';

export { regradeBatchWorkflow as RegradeBatch, regradeProgressQuery } from '../../../src/workflows/regrade-batch.js';

const childLog = proxyActivities<ChildLog>({ startToCloseTimeout: '10 seconds' });

/** How long a stand-in child grades, in virtual time. */
export const CHILD_GRADING_MS = 10 * 60_000;

/**
 * Payload ids starting `bad` end as `failed`, `crash` throws (the child workflow fails), `slow` grades for a day;
 * any other grades for CHILD_GRADING_MS and completes.
 */
export async function GradeSubmission(input: GradeSubmissionInput): Promise<GradeSubmissionResult> {
  await childLog.childStarted({ payloadSha256: input.payloadSha256, trigger: input.trigger, atMs: Date.now() });
  try {
    await sleep(input.payloadSha256.startsWith('slow') ? 24 * 3600_000 : CHILD_GRADING_MS);
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => childLog.childCancelled({ payloadSha256: input.payloadSha256 }));
    }
    throw error;
  }
  await childLog.childFinished({ payloadSha256: input.payloadSha256, atMs: Date.now() });
  if (input.payloadSha256.startsWith('crash')) throw ApplicationFailure.nonRetryable('grader host exploded');
  const state = input.payloadSha256.startsWith('bad') ? 'failed' : 'completed';
  return { state, runId: input.payloadSha256, outcome: null, score: null, nodeName: null, reason: null };
}
