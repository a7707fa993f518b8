// The workflow bundle's entry. Temporal names a workflow type after its export, and operators start
// `GradeSubmission` by that name (e.g. `temporal workflow start --type GradeSubmission`).
export { gradeSubmissionWorkflow as GradeSubmission, expediteSignal, gradingStatusQuery } from './grade-submission.js';
export { reconcileRunsWorkflow as ReconcileRuns } from './reconcile-runs.js';
export { regradeBatchWorkflow as RegradeBatch, regradeProgressQuery } from './regrade-batch.js';
export { purgeExpiredWorkflow as PurgeExpired } from './purge-expired.js';
