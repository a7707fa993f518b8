import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities, ReconciledRun } from '../activities/reconcile-activities.js';

// One pass looks at a bounded batch; a few tries ride out a blip, and the next scheduled pass covers the rest.
const { reconcileRuns } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

/** One reconciliation pass, started by the orchestrator's schedule: fails rows their workflow left unfinished. */
export async function reconcileRunsWorkflow(): Promise<{ checked: number; fixed: ReconciledRun[] }> {
  return reconcileRuns();
}
