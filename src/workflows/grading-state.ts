// What the status query, the memo and the GradingState search attribute say, kept in step; failure helpers.
import { ActivityFailure, ApplicationFailure, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { GradingStatus } from '../shared/grading-types.js';
import { GRADING_STATE } from '../shared/search-attributes.js';

/** Keeps the query, the Web UI's GradingState column and the memo's one-line summary in step. */
export function setState(status: GradingStatus, state: GradingStatus['state']): void {
  status.state = state;
  upsertSearchAttributes([{ key: GRADING_STATE, value: state }]);
  const where = status.nodeName ? ` on ${status.nodeName}` : '';
  const when = state === 'waiting' && status.plannedStartAt ? ` until ${status.plannedStartAt}` : '';
  const place =
    state === 'queued' && status.queuePosition ? ` #${status.queuePosition} in the ${status.lane} lane` : '';
  upsertMemo({ summary: `${state}${place}${where}${when}${status.lastError ? ` (${status.lastError})` : ''}` });
}

/** The message of an activity's ApplicationFailure of `type`, or null for any other error. */
export function applicationFailureMessage(error: unknown, type: string): string | null {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === type) return cause.message;
  return null;
}
