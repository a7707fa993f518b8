// Priority lanes: which waiting run gets the next free slot. Pure declarations: workflows import this file.

/** live: a student is waiting for this grade; regrade: a re-run of work already graded once. */
export const runLanes = ['live', 'regrade'] as const;
export type RunLane = (typeof runLanes)[number];

/**
 * Live when the run was ingested before the assignment's late due date (its due date without one; no due date
 * known: live). A re-run, or a zip re-published after the deadline, is a regrade.
 */
export function laneOf(input: {
  trigger: 'ingest' | 'rerun';
  receivedMs: number;
  dueMs: number | null;
  lateDueMs: number | null;
}): RunLane {
  if (input.trigger === 'rerun') return 'regrade';
  const closesMs = input.lateDueMs ?? input.dueMs;
  return closesMs === null || input.receivedMs <= closesMs ? 'live' : 'regrade';
}
