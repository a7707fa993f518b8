import type { GradingState } from './grading-types.js';

/** Where a run stands as its `grading_runs` row records it: coarser than the workflow's GradingState. */
export const runStates = ['queued', 'placed', 'running', 'recording', 'completed', 'failed', 'rejected'] as const;
export type RunState = (typeof runStates)[number];

/**
 * The row state each workflow state corresponds to: what `grading_runs.state` reads while the workflow reports
 * that state, once the activity of that step has written it.
 */
export const runStateOf: Record<GradingState, { row: RunState; reason: string }> = {
  storing: { row: 'queued', reason: 'openRun inserts the row as queued before the zip is stored' },
  planning: { row: 'queued', reason: 'a plan is written to the row but commits it to no node' },
  waiting: { row: 'queued', reason: 'waiting for a greener hour holds no node yet' },
  queued: { row: 'queued', reason: 'a run waiting for a free slot holds none: claimSlot queues it in its lane' },
  placing: { row: 'placed', reason: 'claimNode commits the run to the node and marks it placed' },
  running: { row: 'running', reason: 'runAutograder marks the row running when the node picks the run up' },
  recording: { row: 'recording', reason: 'runAutograder marks the row recording once the grader has ended' },
  completed: { row: 'completed', reason: 'recordResults writes the verdict and completes the row' },
  failed: { row: 'failed', reason: 'failRun marks the row failed with GreenGrader at fault' },
  rejected: { row: 'rejected', reason: 'storeSubmission rejects a payload that can never be graded' },
};
