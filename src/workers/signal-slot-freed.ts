import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { WakeWaiters } from '../activities/slot-release.js';
import { SLOT_FREED_SIGNAL } from '../shared/grading-types.js';

/** Wakes queued runs with the slot-freed signal; a run that already ended (not found) needs no waking. */
export function signalSlotFreed(temporal: Client): WakeWaiters {
  return async (workflowIds) => {
    await Promise.all(
      workflowIds.map(async (workflowId) => {
        try {
          await temporal.workflow.getHandle(workflowId).signal(SLOT_FREED_SIGNAL);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }),
    );
  };
}
