import { ApplicationFailure } from '@temporalio/activity';
import {
  INVALID_SUBMISSION_ERROR,
  type ExecutionSummary,
  type GradeSubmissionResult,
  type StoredSubmissionRef,
} from '../shared/grading-types.js';
import { forecastWithoutProviders, type PlanningContext, type RunPlan } from '../shared/placement-types.js';
import type { CarbonActivities } from './carbon-activities.js';
import type { PlacementActivities } from './placement-activities.js';
import type { ResultsActivities } from './results-activities.js';
import type { OpenRunInput, RunActivities } from './run-activities.js';
import type { StorageActivities } from './storage-activities.js';

/** The single steps the combined ones are made of (the orchestrator's own, or a test's fakes). */
export type StepParts = Pick<RunActivities, 'openRun'> &
  Pick<StorageActivities, 'storeSubmission'> &
  Pick<PlacementActivities, 'preparePlanning' | 'choosePlacement'> &
  Pick<ResultsActivities, 'recordResults'> &
  Pick<CarbonActivities, 'accountCarbon'>;

/** A run row opened with its submission stored, or refused with the reason (the payload is quarantined). */
export type OpenedRun = { runId: string; stored: StoredSubmissionRef } | { runId: string; rejected: string };

export interface FinishedRun {
  result: GradeSubmissionResult;
  receipt: { emissionsGCo2: number | null; savingGCo2: number | null } | null;
  /** Why accounting failed; `retryable` when another attempt (the workflow's own accountCarbon call) may succeed. */
  carbonFailure: { message: string; retryable: boolean } | null;
}

/**
 * Steps a run always takes back to back, as one local activity each: every local activity is a marker the server
 * writes, a workflow activation on the worker thread and an activity execution on the main thread. Each is made of
 * the single activities (which stay registered for runs started before, see src/workflows/run-path.ts), and a retry
 * repeats the whole step, so each part is idempotent.
 */
export function createCombinedSteps(parts: StepParts) {
  return {
    /** openRun, then storeSubmission; a payload refused as invalid is an answer here, not a failure. */
    async openAndStoreRun(input: OpenRunInput): Promise<OpenedRun> {
      const runId = await parts.openRun(input);
      try {
        return { runId, stored: await parts.storeSubmission({ payloadSha256: input.payloadSha256, runId }) };
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.type !== INVALID_SUBMISSION_ERROR) throw error;
        return { runId, rejected: error.message };
      }
    },

    /**
     * preparePlanning, then, when there is no carbon provider to ask (the workflow asks each in turn, each call
     * with its own retries), choosePlacement on the carbon-agnostic forecast. `plan` is null when forecasts are due.
     */
    async planRun(input: {
      runId: string;
      excludeNodes: string[];
      expedite: boolean;
    }): Promise<{ context: PlanningContext; plan: RunPlan | null }> {
      const context = await parts.preparePlanning(input);
      if (context.providers.length > 0) return { context, plan: null };
      const plan = await parts.choosePlacement({ runId: input.runId, context, forecast: forecastWithoutProviders() });
      return { context, plan };
    },

    /**
     * The grader is done: the result is recorded (which gives the run's slot back and wakes the next in line: no
     * separate releaseSlot, whose node liveness answer only a failed run needs) and the carbon receipt made. A
     * failed receipt does not fail the step: the grade stands, and the workflow retries the receipt on its own
     * when the failure may pass.
     */
    async finishRun(input: { runId: string; execution: ExecutionSummary }): Promise<FinishedRun> {
      const result = await parts.recordResults({ runId: input.runId, execution: input.execution });
      try {
        return { result, receipt: await parts.accountCarbon({ runId: input.runId }), carbonFailure: null };
      } catch (error) {
        const retryable = !(error instanceof ApplicationFailure && error.nonRetryable);
        return {
          result,
          receipt: null,
          carbonFailure: { message: error instanceof Error ? error.message : String(error), retryable },
        };
      }
    },
  };
}

export type CombinedSteps = ReturnType<typeof createCombinedSteps>;
