import { desc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { submissions } from '../../db/schema.js';
import { CliError } from '../errors.js';

/** One stored copy of a Gradescope submission: usually one per id, more when Gradescope published it again. */
export interface StoredPayload {
  payloadSha256: string;
  storedAt: Date;
}

/**
 * The stored payload of a Gradescope submission a command acts on: `payloadSha256` when given (it must
 * belong to the submission), else the most recently stored one. Throws a CliError naming the id otherwise.
 */
export async function findStoredPayload(
  db: Database,
  gradescopeSubmissionId: number,
  payloadSha256?: string,
): Promise<StoredPayload & { storedCopies: number }> {
  const stored = await db
    .select({ payloadSha256: submissions.payloadSha256, storedAt: submissions.storedAt })
    .from(submissions)
    .where(eq(submissions.gradescopeSubmissionId, gradescopeSubmissionId))
    .orderBy(desc(submissions.storedAt));
  if (stored.length === 0) throw unknownSubmission(gradescopeSubmissionId);
  const chosen = payloadSha256 === undefined ? stored[0] : stored.find((s) => s.payloadSha256 === payloadSha256);
  if (chosen === undefined) {
    throw new CliError(
      `submission ${gradescopeSubmissionId} has no stored payload ${payloadSha256}; it has ${stored
        .map((s) => s.payloadSha256)
        .join(', ')}`,
    );
  }
  return { ...chosen, storedCopies: stored.length };
}

/** The error every command gives for a Gradescope submission id GreenGrader has not stored. */
export function unknownSubmission(gradescopeSubmissionId: number): CliError {
  return new CliError(`no stored submission with Gradescope id ${gradescopeSubmissionId} (see \`greengrader list\`)`);
}
