// The run row from the workflow's side: opened (with the submission stored) first thing, marked failed last thing.
import { ActivityFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { OpenedRun } from '../activities/combined-steps.js';
import type { OpenRunInput } from '../activities/run-activities.js';
import { CANCELLED_REASON } from '../shared/grading-types.js';
import type { CentralProxies, StepProxies } from './activity-proxies.js';
import { describeFailure } from './node-failures.js';

/**
 * Opens the run row and stores its submission in one step. If the step fails for good (or the run is cancelled
 * meanwhile), the row is found (or opened) and marked failed, as a failure after a separate openRun would: no row
 * stays `storing` for good.
 */
export async function openAndStore(
  steps: StepProxies,
  central: CentralProxies['central'],
  input: OpenRunInput,
): Promise<OpenedRun> {
  try {
    return await steps.openAndStoreRun(input);
  } catch (error) {
    const cancelled = isCancellation(error);
    if (!cancelled && !(error instanceof ActivityFailure)) throw error;
    const reason = cancelled ? CANCELLED_REASON : `workflow failed: ${describeFailure(error)}`;
    await markRowFailed(central, async () => central.openRun(input), reason);
    throw error;
  }
}

/**
 * Records why the workflow is about to fail. If even failRun fails (the database still away), the original error
 * is still the one the workflow fails with; the reconciliation schedule marks the row later.
 */
export async function markFailed(central: CentralProxies['central'], runId: string, error: unknown): Promise<void> {
  await markRowFailed(central, () => Promise.resolve(runId), `workflow failed: ${describeFailure(error)}`);
}

async function markRowFailed(
  central: CentralProxies['central'],
  rowId: () => Promise<string>,
  reason: string,
): Promise<void> {
  try {
    await CancellationScope.nonCancellable(async () => central.failRun({ runId: await rowId(), reason }));
  } catch (failRunError) {
    if (!(failRunError instanceof ActivityFailure)) throw failRunError;
  }
}
