// Decided once when a run (or its continuation) starts: how it calls its central activities and how often it
// writes its state for operators. Runs started before a patch keep the path they began on.
import { patched } from '@temporalio/workflow';
import {
  localActivities,
  localSteps,
  taskActivities,
  type CentralProxies,
  type StepProxies,
} from './activity-proxies.js';
import { everyChange, restingStatesOnly, type Visibility } from './grading-state.js';

/**
 * Central activities (database work, placement, slot claims, carbon forecasts) run as local activities in the
 * orchestrator's workflow worker, and the memo and search attributes are written when the run comes to rest. A
 * graded run then costs the server a few workflow tasks instead of one per activity and state.
 */
const LOCAL_ACTIVITIES_PATCH = 'local-central-activities';
/**
 * Steps that always run back to back are one local activity each (src/activities/combined-steps.ts): open and
 * store, prepare and choose a placement (no carbon provider), release, record and account. Each local activity is
 * a marker, a workflow activation and an activity execution. Runs from before keep their single activities.
 */
const COMBINED_STEPS_PATCH = 'combined-central-steps';

export interface RunPath {
  activities: CentralProxies;
  /** The combined steps, or null on the paths of runs started before COMBINED_STEPS_PATCH. */
  steps: StepProxies | null;
  visibility: Visibility;
  /**
   * `patched(id)` for a patch older than this one. A run on the local path started after all of them, so it skips
   * their markers (each also an upsert of TemporalChangeVersion).
   */
  patched(id: string): boolean;
}

/** Call once, first thing in the workflow: the patch marker must come before any other command. */
export function chooseRunPath(): RunPath {
  // One patch marker per run: a new run records only the newest; one replaying finds the marker it ran with.
  if (patched(COMBINED_STEPS_PATCH)) {
    return { activities: localActivities, steps: localSteps, visibility: restingStatesOnly(), patched: () => true };
  }
  if (patched(LOCAL_ACTIVITIES_PATCH)) {
    return { activities: localActivities, steps: null, visibility: restingStatesOnly(), patched: () => true };
  }
  return { activities: taskActivities, steps: null, visibility: everyChange, patched };
}
