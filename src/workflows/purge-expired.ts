import { proxyActivities } from '@temporalio/workflow';
import type { PurgeCounts, RetentionActivities } from '../activities/retention-activities.js';

// A purge is a few UPDATEs; a few tries ride out a blip, and the next scheduled pass catches up on the rest.
const { purgeExpiredData } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

/** One retention pass, started by the orchestrator's schedule: drops payloads and output past their period. */
export async function purgeExpiredWorkflow(): Promise<PurgeCounts> {
  return purgeExpiredData();
}
