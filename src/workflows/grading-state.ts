// What the status query, the memo and the GradingState search attribute say, kept in step; failure helpers.
import { ActivityFailure, ApplicationFailure, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { GradingState, GradingStatus } from '../shared/grading-types.js';
import { GRADING_STATE } from '../shared/search-attributes.js';

/** Keeps the query, the Web UI's GradingState column and the memo's one-line summary in step. */
function setState(status: GradingStatus, state: GradingStatus['state']): void {
  status.state = state;
  upsertSearchAttributes([{ key: GRADING_STATE, value: state }]);
  upsertMemo({ summary: summaryOf(status, true) });
}

/**
 * How a run shows operators where it stands (the memo and search attributes; the status query always answers
 * from the live state). Every write is an event in the history and an update of the server's visibility store.
 */
export interface Visibility {
  setState(status: GradingStatus, state: GradingState): void;
  upsert(pairs: SearchAttributeUpdatePair[]): void;
  /**
   * Every state and change at once (a queued run's new place in line too), or only where the run comes to rest
   * (the place in line is then served by the query and the database).
   */
  readonly writesEveryChange: boolean;
}

/** Runs started before the local-activities patch replay with this. */
export const everyChange: Visibility = {
  setState,
  upsert: (pairs) => upsertSearchAttributes(pairs),
  writesEveryChange: true,
};

/** States a run stays in for a while; the others pass within one workflow task, so nobody could see them. */
const RESTING_STATES: ReadonlySet<GradingState> = new Set([
  'waiting',
  'queued',
  'running',
  'completed',
  'failed',
  'rejected',
]);

/** Writes only when the run comes to rest, with the search attribute changes gathered since, in one upsert. */
export function restingStatesOnly(): Visibility {
  const pending = new Map<string, SearchAttributeUpdatePair>();
  return {
    setState(status, state) {
      status.state = state;
      if (!RESTING_STATES.has(state)) return;
      pending.set(GRADING_STATE.name, { key: GRADING_STATE, value: state });
      upsertSearchAttributes([...pending.values()]);
      pending.clear();
      upsertMemo({ summary: summaryOf(status, false) });
    },
    upsert(pairs) {
      for (const pair of pairs) pending.set(pair.key.name, pair);
    },
    writesEveryChange: false,
  };
}

function summaryOf(status: GradingStatus, withPosition: boolean): string {
  const { state } = status;
  const where = status.nodeName ? ` on ${status.nodeName}` : '';
  const when = state === 'waiting' && status.plannedStartAt ? ` until ${status.plannedStartAt}` : '';
  let place = '';
  if (state === 'queued' && withPosition && status.queuePosition) {
    place = ` #${status.queuePosition} in the ${status.lane} lane`;
  } else if (state === 'queued' && !withPosition && status.lane) {
    place = ` in the ${status.lane} lane`;
  }
  return `${state}${place}${where}${when}${status.lastError ? ` (${status.lastError})` : ''}`;
}

/** The message of an activity's ApplicationFailure of `type`, or null for any other error. */
export function applicationFailureMessage(error: unknown, type: string): string | null {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === type) return cause.message;
  return null;
}
