// Typed search attributes the workflow sets, so operators can filter runs in the Temporal Web UI
// (e.g. `GradingState = "waiting" AND Region = "us-west"`). Declarations only: workflows import this.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const GRADESCOPE_SUBMISSION_ID = defineSearchAttributeKey('GradescopeSubmissionId', SearchAttributeType.INT);
export const ASSIGNMENT_ID = defineSearchAttributeKey('AssignmentId', SearchAttributeType.INT);
export const COURSE_ID = defineSearchAttributeKey('CourseId', SearchAttributeType.INT);
export const REGION = defineSearchAttributeKey('Region', SearchAttributeType.KEYWORD);
export const NODE = defineSearchAttributeKey('Node', SearchAttributeType.KEYWORD);
export const GRADING_STATE = defineSearchAttributeKey('GradingState', SearchAttributeType.KEYWORD);
/** Priority lane: live or regrade (see src/shared/lanes.ts). */
export const LANE = defineSearchAttributeKey('GradingLane', SearchAttributeType.KEYWORD);
export const GRAMS_CO2 = defineSearchAttributeKey('GramsCO2', SearchAttributeType.DOUBLE);

export const ALL_SEARCH_ATTRIBUTES = [
  GRADESCOPE_SUBMISSION_ID,
  ASSIGNMENT_ID,
  COURSE_ID,
  REGION,
  NODE,
  GRADING_STATE,
  GRAMS_CO2,
  LANE,
] as const;
