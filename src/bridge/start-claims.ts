import { and, asc, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { rawPayloads } from '../db/schema.js';

/** A pending row one starter holds under its lease: what its workflow start needs. */
export interface ClaimedStart {
  sha256: string;
  receivedAt: Date;
}

/**
 * Leases up to `limit` pending rows, oldest first, for `leaseMs`: rows nobody holds, or whose holder's lease ran
 * out (it crashed or stalled). One autocommitted statement, so no transaction stays open while workflows start;
 * `SKIP LOCKED` lets several bridges claim at once without waiting on each other or taking the same row.
 */
export async function claimPendingStarts(db: Database, limit: number, leaseMs: number): Promise<ClaimedStart[]> {
  const claimable = db
    .select({ sha256: rawPayloads.sha256 })
    .from(rawPayloads)
    .where(
      and(
        isNull(rawPayloads.workflowStartedAt),
        or(isNull(rawPayloads.workflowStartLeaseUntil), lt(rawPayloads.workflowStartLeaseUntil, sql`now()`)),
      ),
    )
    .orderBy(asc(rawPayloads.receivedAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(rawPayloads)
    .set({ workflowStartLeaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where(inArray(rawPayloads.sha256, claimable))
    .returning({ sha256: rawPayloads.sha256, receivedAt: rawPayloads.receivedAt });
  // RETURNING keeps no order: start the oldest first, as the rows were chosen.
  return rows.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/** A row whose workflow now exists, and when its start returned. */
export interface StartedRow {
  sha256: string;
  startedAt: Date;
}

/**
 * Marks rows whose workflow now exists, each with the time its own start returned (a mark written for many starts
 * at once must not date them all to its commit): they leave the outbox (and its partial index) for good.
 */
export async function markStarted(db: Database, started: readonly StartedRow[]): Promise<void> {
  if (started.length === 0) return;
  // Two arrays bound as two parameters, whatever the batch size: one statement, no per-row SQL.
  const sha256s = sql.param(started.map((row) => row.sha256));
  const times = sql.param(started.map((row) => row.startedAt.toISOString()));
  await db.execute(sql`
    UPDATE ${rawPayloads}
    SET workflow_started_at = started.at, workflow_start_lease_until = NULL
    FROM unnest(${sha256s}::text[], ${times}::timestamptz[]) AS started(sha256, at)
    WHERE ${rawPayloads.sha256} = started.sha256`);
}

/** Gives rows back unstarted (a failed start, a stop) so the next claim, by any bridge, takes them at once. */
export async function releaseClaims(db: Database, sha256s: readonly string[]): Promise<void> {
  if (sha256s.length === 0) return;
  await db
    .update(rawPayloads)
    .set({ workflowStartLeaseUntil: null })
    .where(and(inArray(rawPayloads.sha256, [...sha256s]), isNull(rawPayloads.workflowStartedAt)));
}
