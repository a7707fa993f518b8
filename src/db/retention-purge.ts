import { and, count, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from './client.js';
import { gradingRuns, rawPayloads, rejectedMessages } from './schema.js';

/** What one purge dropped (or, on a dry run, would drop). */
export interface PurgeCounts {
  /** Original zips (sealed, plaintext-quarantined, or legacy plaintext) whose `purge_after` has passed. */
  rawPayloads: number;
  /** Rejected messages' bytes past their quarantine period. */
  rejectedMessages: number;
  /** Runs whose grader output, results.json text and per-test output were older than the run-output period. */
  runOutputs: number;
}

export interface PurgeOptions {
  now: Date;
  runOutputRetentionDays: number;
  /** Count what is due without changing anything. */
  dryRun: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Drops the bytes and output past their retention. Rows stay (sha256, sizes, reasons, scores), so deduplication,
 * re-runs of stored submissions and reports keep working; only what could identify a student goes.
 */
export async function purgeExpired(db: Database, options: PurgeOptions): Promise<PurgeCounts> {
  const { now } = options;
  const rawDue = and(isNotNull(rawPayloads.bytes), lte(rawPayloads.purgeAfter, now));
  const rejectedDue = and(isNotNull(rejectedMessages.bytes), lte(rejectedMessages.purgeAfter, now));
  const outputCutoff = new Date(now.getTime() - options.runOutputRetentionDays * DAY_MS);
  const runsDue = and(
    isNull(gradingRuns.outputPurgedAt),
    lte(gradingRuns.recordedAt, outputCutoff),
    or(isNotNull(gradingRuns.output), isNotNull(gradingRuns.resultsJson), isNotNull(gradingRuns.tests)),
  );
  if (options.dryRun) {
    return {
      rawPayloads: await countWhere(db, rawPayloads, rawDue),
      rejectedMessages: await countWhere(db, rejectedMessages, rejectedDue),
      runOutputs: await countWhere(db, gradingRuns, runsDue),
    };
  }
  return db.transaction(async (tx) => {
    const raw = await tx
      .update(rawPayloads)
      .set({ bytes: null, bytesKeyId: null, purgeAfter: null, bytesPurgedAt: now })
      .where(rawDue)
      .returning({ sha256: rawPayloads.sha256 });
    const rejected = await tx
      .update(rejectedMessages)
      .set({ bytes: null, bytesKeyId: null, purgeAfter: null, bytesPurgedAt: now })
      .where(rejectedDue)
      .returning({ id: rejectedMessages.id });
    const runs = await tx
      .update(gradingRuns)
      .set({ output: null, resultsJson: null, tests: withoutTestOutput, outputPurgedAt: now })
      .where(runsDue)
      .returning({ id: gradingRuns.id });
    return { rawPayloads: raw.length, rejectedMessages: rejected.length, runOutputs: runs.length };
  });
}

/** Each test's `output` (what the grader printed about it, which may quote the student) removed; names and scores kept. */
const withoutTestOutput = sql`case when jsonb_typeof(${gradingRuns.tests}) = 'array' then (
  select coalesce(jsonb_agg(case when jsonb_typeof(test) = 'object' then test - 'output' else test end order by position), '[]'::jsonb)
  from jsonb_array_elements(${gradingRuns.tests}) with ordinality as t(test, position)
) else ${gradingRuns.tests} end`;

async function countWhere(
  db: Database,
  table: typeof rawPayloads | typeof rejectedMessages | typeof gradingRuns,
  where: SQL | undefined,
): Promise<number> {
  const [row] = await db.select({ n: count() }).from(table).where(where);
  return row?.n ?? 0;
}
