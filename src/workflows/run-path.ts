// Decided once when a run (or its continuation) starts: how it calls its central activities and how often it
// writes its state for operators. Runs started before the patch keep the path they began on.
import { patched } from '@temporalio/workflow';
import { localActivities, taskActivities, type CentralProxies } from './activity-proxies.js';
import { everyChange, restingStatesOnly, type Visibility } from './grading-state.js';

/**
 * Central activities (database work, placement, slot claims, carbon forecasts) run as local activities in the
 * orchestrator's workflow worker, and the memo and search attributes are written when the run comes to rest. A
 * graded run then costs the server a few workflow tasks instead of one per activity and state.
 */
const LOCAL_ACTIVITIES_PATCH = 'local-central-activities';

export interface RunPath {
  activities: CentralProxies;
  visibility: Visibility;
  /**
   * `patched(id)` for a patch older than this one. A run on the local path started after all of them, so it skips
   * their markers (each also an upsert of TemporalChangeVersion).
   */
  patched(id: string): boolean;
}

/** Call once, first thing in the workflow: the patch marker must come before any other command. */
export function chooseRunPath(): RunPath {
  if (patched(LOCAL_ACTIVITIES_PATCH)) {
    return { activities: localActivities, visibility: restingStatesOnly(), patched: () => true };
  }
  return { activities: taskActivities, visibility: everyChange, patched };
}
