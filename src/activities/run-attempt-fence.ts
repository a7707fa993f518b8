import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns } from '../db/schema.js';

/** Columns a node attempt may write to its run row. */
type RunRowUpdate = Partial<typeof gradingRuns.$inferInsert>;

/** What starting an attempt writes: running, and the next value of `attempts` (the attempt's fencing token). */
export const beginAttemptValues = { state: 'running', attempts: sql`${gradingRuns.attempts} + 1` } as const;

/**
 * Starts a node attempt on a run: marks it running and takes the next value of `attempts` as this attempt's
 * fencing token. Every later write of the attempt carries the token (see `writeAsAttempt`).
 */
export async function beginAttempt(db: Database, runId: string): Promise<number> {
  const [row] = await db
    .update(gradingRuns)
    .set(beginAttemptValues)
    .where(eq(gradingRuns.id, runId))
    .returning({ attempt: gradingRuns.attempts });
  if (!row) throw new Error(`run ${runId} not found`);
  return row.attempt;
}

/**
 * Writes to the run row only if no newer attempt has started since `attempt` began: a node whose heartbeat timed
 * out, or that lost the run to another node, may still finish later, and its result must not overwrite the current
 * attempt's. Such a late write is refused (non-retryable: retrying cannot make it current again).
 */
export async function writeAsAttempt(
  db: Database,
  runId: string,
  attempt: number,
  values: RunRowUpdate,
): Promise<void> {
  const written = await db
    .update(gradingRuns)
    .set(values)
    .where(and(eq(gradingRuns.id, runId), eq(gradingRuns.attempts, attempt)))
    .returning({ id: gradingRuns.id });
  if (written.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `run ${runId}: attempt ${attempt} was superseded by a newer attempt; its late result is discarded`,
      'StaleAttempt',
    );
  }
}
