// The workflow bundle's entry. Temporal names a workflow type after its export, and operators start
// `GradeSubmission` by that name (e.g. `temporal workflow start --type GradeSubmission`).
export { gradeSubmissionWorkflow as GradeSubmission, gradingStatusQuery } from './grade-submission.js';
