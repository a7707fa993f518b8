import { desc, eq, sql } from 'drizzle-orm';
import type { RegradeScope } from '../shared/regrade-types.js';
import type { Database } from './client.js';
import { submissions } from './schema.js';

/** What a regrade of an assignment or a course covers: the latest stored copy of each Gradescope submission. */
export function latestStoredPayloads(db: Database, scope: RegradeScope, scopeId: number) {
  const column = scope === 'assignment' ? submissions.assignmentId : submissions.courseId;
  // Gradescope may publish one submission more than once: `rerun SUBMISSION_ID` also takes the latest copy.
  return db
    .selectDistinctOn([submissions.gradescopeSubmissionId], {
      payloadSha256: submissions.payloadSha256,
      gradescopeSubmissionId: submissions.gradescopeSubmissionId,
    })
    .from(submissions)
    .where(eq(column, scopeId))
    .orderBy(submissions.gradescopeSubmissionId, desc(submissions.storedAt));
}

/** How many submissions a regrade of the assignment or course would grade. */
export async function countRegradable(db: Database, scope: RegradeScope, scopeId: number): Promise<number> {
  const column = scope === 'assignment' ? submissions.assignmentId : submissions.courseId;
  const [row] = await db
    .select({ count: sql<number>`count(distinct ${submissions.gradescopeSubmissionId})::int` })
    .from(submissions)
    .where(eq(column, scopeId));
  return row?.count ?? 0;
}
