import { ApplicationFailure } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { gradingRuns, rawPayloads, submissions } from '../db/schema.js';
import { INVALID_SUBMISSION_ERROR, type StoredSubmissionRef } from '../shared/grading-types.js';
import { extractStoredFields, InvalidSubmissionError, parseSubmission, scoreOf } from '../submission/index.js';

/** `anonymiseKey` is the pseudonym key (see readAnonymiseKey); null stores submissions as they came. */
export function createStorageActivities(db: Database, config: Config, anonymiseKey: Uint8Array | null) {
  return {
    /**
     * Parses and anonymises the raw payload and stores it as a submission row. Idempotent: a payload
     * already stored (a retry, or a re-run) returns the existing row. A malformed payload is
     * quarantined with its reason and fails the activity for good.
     */
    async storeSubmission(input: { payloadSha256: string; runId: string }): Promise<StoredSubmissionRef> {
      const existing = await findStored(db, input.payloadSha256);
      if (existing) {
        await db
          .update(gradingRuns)
          .set({ submissionId: existing.submissionId })
          .where(eq(gradingRuns.id, input.runId));
        return existing;
      }
      const [raw] = await db.select().from(rawPayloads).where(eq(rawPayloads.sha256, input.payloadSha256));
      if (!raw)
        throw ApplicationFailure.nonRetryable(`no raw payload ${input.payloadSha256}`, INVALID_SUBMISSION_ERROR);

      let parsed;
      try {
        parsed = await parseSubmission(raw.bytes, {
          limits: { maxEntries: config.MAX_ZIP_ENTRIES, maxUncompressedBytes: config.MAX_UNCOMPRESSED_BYTES },
          anonymise: anonymiseKey === null ? false : { pseudonymKey: anonymiseKey },
        });
      } catch (error) {
        if (!(error instanceof InvalidSubmissionError)) throw error;
        await quarantine(db, input, error);
        throw ApplicationFailure.create({
          type: INVALID_SUBMISSION_ERROR,
          message: `${error.reason}: ${error.message}`,
          nonRetryable: true,
        });
      }

      const fields = extractStoredFields(parsed.metadata);
      const gradescopeScore = parsed.gradescopeResults ? scoreOf(parsed.gradescopeResults) : null;
      const ref = await db.transaction(async (tx) => {
        const [row] = await tx
          .insert(submissions)
          .values({
            payloadSha256: input.payloadSha256,
            gradescopeSubmissionId: fields.gradescopeSubmissionId,
            gradescopeCreatedAt: fields.createdAt,
            courseId: fields.courseId,
            assignmentId: fields.assignmentId,
            assignmentTitle: fields.assignmentTitle,
            assignmentReleaseDate: fields.releaseDate,
            assignmentDueDate: fields.dueDate,
            assignmentLateDueDate: fields.lateDueDate,
            groupSubmission: fields.groupSubmission,
            groupSize: fields.groupSize,
            totalPoints: fields.totalPoints,
            outline: fields.outline,
            submissionMethod: fields.submissionMethod,
            studentNames: fields.studentNames,
            studentEmails: fields.studentEmails,
            studentSids: fields.studentSids,
            studentUserIds: fields.studentUserIds,
            studentAssignmentDates: fields.studentAssignmentDates,
            senderIps: parsed.senderIps,
            receiverIp: raw.receiverIp,
            sourceHash: parsed.sourceHash,
            anonymised: anonymiseKey !== null,
            anonymisation: parsed.anonymisation,
            zip: Buffer.from(parsed.anonymisedZip),
            gradescopeScore,
            gradescopeResults: parsed.gradescopeResults,
            warnings: parsed.warnings,
          })
          .onConflictDoNothing({ target: submissions.payloadSha256 })
          .returning({ id: submissions.id });
        await tx.update(rawPayloads).set({ status: 'stored' }).where(eq(rawPayloads.sha256, input.payloadSha256));
        return row;
      });
      const stored = ref ? null : await findStored(db, input.payloadSha256);
      const submissionId = ref?.id ?? stored?.submissionId;
      if (!submissionId) throw new Error(`submission ${input.payloadSha256} neither inserted nor found`);
      await db.update(gradingRuns).set({ submissionId }).where(eq(gradingRuns.id, input.runId));
      return {
        submissionId,
        gradescopeSubmissionId: fields.gradescopeSubmissionId,
        assignmentId: fields.assignmentId,
        courseId: fields.courseId,
      };
    },
  };
}

async function findStored(db: Database, payloadSha256: string): Promise<StoredSubmissionRef | null> {
  const [row] = await db
    .select({
      submissionId: submissions.id,
      gradescopeSubmissionId: submissions.gradescopeSubmissionId,
      assignmentId: submissions.assignmentId,
      courseId: submissions.courseId,
    })
    .from(submissions)
    .where(eq(submissions.payloadSha256, payloadSha256));
  return row ?? null;
}

/** Keeps the raw bytes and records why they were refused, for an operator to inspect. */
async function quarantine(
  db: Database,
  input: { payloadSha256: string; runId: string },
  error: InvalidSubmissionError,
): Promise<void> {
  const now = new Date();
  await db
    .update(rawPayloads)
    .set({ status: 'rejected', rejectionCode: error.reason, rejectionReason: error.message, rejectedAt: now })
    .where(eq(rawPayloads.sha256, input.payloadSha256));
  await db
    .update(gradingRuns)
    .set({ state: 'rejected', failureReason: `${error.reason}: ${error.message}`, recordedAt: now })
    .where(eq(gradingRuns.id, input.runId));
}

export type StorageActivities = ReturnType<typeof createStorageActivities>;
