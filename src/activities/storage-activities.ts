import { ApplicationFailure } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { isDataException, redactDatabaseError } from '../db/query-errors.js';
import { gradingRuns, rawPayloads, submissions } from '../db/schema.js';
import { storableJson, storableText } from '../db/storable-text.js';
import { INVALID_SUBMISSION_ERROR, type StoredSubmissionRef } from '../shared/grading-types.js';
import { extractStoredFields, InvalidSubmissionError, parseSubmission, scoreOf } from '../submission/index.js';
import {
  keepBytes,
  readKeptBytes,
  sealBytes,
  sealContext,
  SealedBytesError,
  type RetentionKeyring,
} from '../submission/sealed-bytes.js';

export type { RetentionKeyring };

const DAY_MS = 86_400_000;

export interface StorageSecrets {
  /** The pseudonym key (see readAnonymiseKey); null stores submissions as they came. */
  anonymiseKey: Uint8Array | null;
  keyring: RetentionKeyring;
}

/**
 * Storing and quarantining payloads. `keyring` seals what is kept at rest: originals under RAW_RETENTION_DAYS,
 * quarantined payloads under QUARANTINE_RETENTION_DAYS (plaintext for that period when no key is configured).
 */
export function createStorageActivities(db: Database, config: Config, secrets: StorageSecrets) {
  const { anonymiseKey, keyring } = secrets;
  // Built once, sent by name: the payload's raw row and, when one is stored from it already, that submission.
  const storedOrRaw = db
    .select({
      sha256: rawPayloads.sha256,
      // The original is read only while no submission is stored from it: a retry needs only the stored row.
      bytes: sql<Buffer | null>`case when ${submissions.id} is null then ${rawPayloads.bytes} end`,
      bytesKeyId: rawPayloads.bytesKeyId,
      bytesPurgedAt: rawPayloads.bytesPurgedAt,
      receiverIp: rawPayloads.receiverIp,
      stored: {
        submissionId: submissions.id,
        gradescopeSubmissionId: submissions.gradescopeSubmissionId,
        assignmentId: submissions.assignmentId,
        courseId: submissions.courseId,
      },
    })
    .from(rawPayloads)
    .leftJoin(submissions, eq(submissions.payloadSha256, rawPayloads.sha256))
    .where(eq(rawPayloads.sha256, sql.placeholder('sha256')))
    .prepare('store_submission_read');
  return {
    /**
     * Parses and anonymises the raw payload and stores it as a submission row. Idempotent: a payload
     * already stored (a retry, or a re-run) returns the existing row. A malformed payload is
     * quarantined with its reason and fails the activity for good.
     */
    async storeSubmission(input: { payloadSha256: string; runId: string }): Promise<StoredSubmissionRef> {
      const [raw] = await storedOrRaw.execute({ sha256: input.payloadSha256 });
      if (!raw)
        throw ApplicationFailure.nonRetryable(`no raw payload ${input.payloadSha256}`, INVALID_SUBMISSION_ERROR);
      if (raw.stored) {
        await db
          .update(gradingRuns)
          .set({ submissionId: raw.stored.submissionId })
          .where(eq(gradingRuns.id, input.runId));
        return raw.stored;
      }
      const original = openOriginal(keyring, raw);

      let parsed;
      try {
        parsed = await parseSubmission(original, {
          limits: { maxEntries: config.MAX_ZIP_ENTRIES, maxUncompressedBytes: config.MAX_UNCOMPRESSED_BYTES },
          anonymise: anonymiseKey === null ? false : { pseudonymKey: anonymiseKey },
        });
      } catch (error) {
        if (!(error instanceof InvalidSubmissionError)) throw error;
        throw await quarantine(db, input, error, kept(keyring, original, input.payloadSha256, config));
      }

      const gradescopeScore = parsed.gradescopeResults ? scoreOf(parsed.gradescopeResults) : null;
      // Text from the zip may hold characters PostgreSQL cannot store (src/db/storable-text.ts): kept as U+FFFD.
      const storable = storableJson({
        fields: extractStoredFields(parsed.metadata),
        gradescopeResults: parsed.gradescopeResults,
        senderIps: parsed.senderIps,
        anonymisation: parsed.anonymisation,
        warnings: parsed.warnings,
      });
      const { fields, gradescopeResults, senderIps, anonymisation } = storable.value;
      const warnings =
        storable.replaced === 0
          ? storable.value.warnings
          : [
              ...storable.value.warnings,
              `${storable.replaced} characters PostgreSQL cannot store (U+0000, unpaired surrogates) are stored as U+FFFD.`,
            ];
      // One statement, so atomic without a transaction: the submission, the raw row's new status and the run's
      // link to it (only when this call inserted it; a concurrent store's row is linked below).
      const inserted = db
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
          senderIps,
          receiverIp: raw.receiverIp,
          sourceHash: parsed.sourceHash,
          anonymised: anonymiseKey !== null,
          anonymisation,
          zip: Buffer.from(parsed.anonymisedZip),
          gradescopeScore,
          gradescopeResults,
          warnings,
        })
        .onConflictDoNothing({ target: submissions.payloadSha256 })
        .returning({ id: submissions.id });
      // The anonymised copy is in: the original goes, or stays sealed for RAW_RETENTION_DAYS when opted in.
      const rawStored = db
        .update(rawPayloads)
        .set({ status: 'stored', ...retainedOriginal(keyring, original, input.payloadSha256, config) })
        .where(eq(rawPayloads.sha256, input.payloadSha256));
      // Drizzle puts each embedded builder in parentheses, as a CTE's body needs.
      const store = sql`
        with inserted as ${inserted}, raw as ${rawStored}, linked as (
          update ${gradingRuns} set submission_id = inserted.id from inserted where ${gradingRuns.id} = ${input.runId}
        )
        select id from inserted`;
      const { rows } = await db.execute<{ id: string }>(store).catch(async (error: unknown) => {
        // A value the schema let through but a column cannot hold fails alike on every retry: the payload is
        // kept with the reason (the redacted error gives the SQLSTATE, never the value) instead of failing the run.
        if (!isDataException(error)) throw error;
        const described = redactDatabaseError(error);
        const refused = new InvalidSubmissionError(
          'unstorable-data',
          `PostgreSQL refused a value of the submission: ${described instanceof Error ? described.message : 'a data exception'}`,
        );
        throw await quarantine(db, input, refused, kept(keyring, original, input.payloadSha256, config));
      });
      const [ref] = rows;
      let submissionId = ref?.id;
      if (submissionId === undefined) {
        // A concurrent store of the same payload inserted it first: the run links to that row.
        const stored = await findStored(db, input.payloadSha256);
        if (!stored) throw new Error(`submission ${input.payloadSha256} neither inserted nor found`);
        submissionId = stored.submissionId;
        await db.update(gradingRuns).set({ submissionId }).where(eq(gradingRuns.id, input.runId));
      }
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

/** The original's plaintext, or a non-retryable failure saying why it is no longer there. */
function openOriginal(
  keyring: RetentionKeyring,
  raw: Pick<typeof rawPayloads.$inferSelect, 'sha256' | 'bytes' | 'bytesKeyId' | 'bytesPurgedAt'>,
): Buffer {
  const { sha256 } = raw;
  if (raw.bytes === null) {
    const when = raw.bytesPurgedAt ? ` on ${raw.bytesPurgedAt.toISOString()}` : '';
    throw ApplicationFailure.nonRetryable(
      `the original of payload ${sha256} was purged${when} (retention) and no submission was stored from it`,
      INVALID_SUBMISSION_ERROR,
    );
  }
  try {
    return readKeptBytes(keyring, { bytes: raw.bytes, bytesKeyId: raw.bytesKeyId }, sealContext.rawPayload(sha256));
  } catch (error) {
    if (!(error instanceof SealedBytesError)) throw error;
    // A key missing from the keyring or altered bytes need an operator; retrying cannot help.
    throw ApplicationFailure.nonRetryable(`payload ${sha256}: ${error.message}`, INVALID_SUBMISSION_ERROR);
  }
}

/** What the raw row keeps once the anonymised copy is stored: nothing, or the original sealed until it is due. */
function retainedOriginal(keyring: RetentionKeyring, original: Buffer, sha256: string, config: Config) {
  const now = new Date();
  if (config.RAW_RETENTION_DAYS === 0) {
    return { bytes: null, bytesKeyId: null, purgeAfter: null, bytesPurgedAt: now };
  }
  const current = keyring.current;
  // Checked at start (loadRetentionKeyring); repeated so no code path can keep an original in plaintext.
  if (!current) throw new Error('RAW_RETENTION_DAYS is set but no retention key is configured');
  return {
    bytes: sealBytes(keyring, original, sealContext.rawPayload(sha256)),
    bytesKeyId: current.id,
    purgeAfter: new Date(now.getTime() + config.RAW_RETENTION_DAYS * DAY_MS),
    bytesPurgedAt: null,
  };
}

/** A quarantined original as kept for inspection: sealed when a key is configured, until the quarantine period ends. */
function kept(keyring: RetentionKeyring, original: Buffer, sha256: string, config: Config) {
  return {
    ...keepBytes(keyring, original, sealContext.rawPayload(sha256)),
    purgeAfter: new Date(Date.now() + config.QUARANTINE_RETENTION_DAYS * DAY_MS),
  };
}

/** Keeps the raw bytes (see `kept`) and records why they were refused; returns the failure that ends the activity. */
async function quarantine(
  db: Database,
  input: { payloadSha256: string; runId: string },
  error: InvalidSubmissionError,
  keptBytes: ReturnType<typeof kept>,
): Promise<ApplicationFailure> {
  const now = new Date();
  await db
    .update(rawPayloads)
    .set({
      status: 'rejected',
      rejectionCode: error.reason,
      // A parser's message may quote the character that broke it, NUL included, which text cannot hold.
      rejectionReason: storableText(error.message).text,
      rejectedAt: now,
      ...keptBytes,
    })
    .where(eq(rawPayloads.sha256, input.payloadSha256));
  await db
    .update(gradingRuns)
    .set({ state: 'rejected', failureReason: storableText(`${error.reason}: ${error.message}`).text, recordedAt: now })
    .where(eq(gradingRuns.id, input.runId));
  // Non-retryable: the same bytes are refused the same way every time.
  return ApplicationFailure.create({
    type: INVALID_SUBMISSION_ERROR,
    message: `${error.reason}: ${error.message}`,
    nonRetryable: true,
  });
}

export type StorageActivities = ReturnType<typeof createStorageActivities>;
