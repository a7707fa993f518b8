import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { gradingRuns, runSlotClaims, submissions } from '../../db/schema.js';
import { runColumns, slotColumns, toRunView, type RunView } from './run-view.js';

/** A stored copy of the submission, as `status --json` prints it. */
interface PayloadView {
  payloadSha256: string;
  courseId: number;
  assignmentId: number;
  assignmentTitle: string;
  /** When the student submitted on Gradescope. */
  gradescopeCreatedAt: string;
  storedAt: string;
  anonymised: boolean;
  /** Gradescope's own score from the results.json in the zip. */
  gradescopeScore: number | null;
  warnings: string[];
}

/** `greengrader status SUBMISSION_ID --json`. */
export interface SubmissionStatus {
  gradescopeSubmissionId: number;
  /** Oldest first; usually one. */
  payloads: PayloadView[];
  /** Every run of any of the payloads, oldest first (ingest runs and re-runs alike). */
  runs: RunView[];
}

/** Everything GreenGrader knows about one Gradescope submission; null when it stored none with that id. */
export async function submissionStatus(db: Database, gradescopeSubmissionId: number): Promise<SubmissionStatus | null> {
  const payloads = await db
    .select({
      payloadSha256: submissions.payloadSha256,
      courseId: submissions.courseId,
      assignmentId: submissions.assignmentId,
      assignmentTitle: submissions.assignmentTitle,
      gradescopeCreatedAt: submissions.gradescopeCreatedAt,
      storedAt: submissions.storedAt,
      anonymised: submissions.anonymised,
      gradescopeScore: submissions.gradescopeScore,
      warnings: submissions.warnings,
    })
    .from(submissions)
    .where(eq(submissions.gradescopeSubmissionId, gradescopeSubmissionId))
    .orderBy(asc(submissions.storedAt));
  if (payloads.length === 0) return null;
  // By payload, not submission row: a run that has not stored its submission yet is linked by its payload only.
  const runs = await db
    .select({ ...runColumns, ...slotColumns })
    .from(gradingRuns)
    .leftJoin(runSlotClaims, eq(runSlotClaims.runId, gradingRuns.id))
    .where(
      inArray(
        gradingRuns.payloadSha256,
        payloads.map((p) => p.payloadSha256),
      ),
    )
    .orderBy(asc(gradingRuns.receivedAt), asc(gradingRuns.workflowId));
  return {
    gradescopeSubmissionId,
    payloads: payloads.map((p) => ({
      ...p,
      gradescopeCreatedAt: p.gradescopeCreatedAt.toISOString(),
      storedAt: p.storedAt.toISOString(),
      warnings: Array.isArray(p.warnings) ? p.warnings.map(String) : [],
    })),
    runs: runs.map(toRunView),
  };
}
