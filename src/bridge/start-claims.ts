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

/** Marks rows whose workflow now exists: they leave the outbox (and its partial index) for good. */
export async function markStarted(db: Database, sha256s: readonly string[]): Promise<void> {
  if (sha256s.length === 0) return;
  await db
    .update(rawPayloads)
    .set({ workflowStartedAt: sql`now()`, workflowStartLeaseUntil: null })
    .where(inArray(rawPayloads.sha256, [...sha256s]));
}

/** Gives rows back unstarted (a failed start, a stop) so the next claim, by any bridge, takes them at once. */
export async function releaseClaims(db: Database, sha256s: readonly string[]): Promise<void> {
  if (sha256s.length === 0) return;
  await db
    .update(rawPayloads)
    .set({ workflowStartLeaseUntil: null })
    .where(and(inArray(rawPayloads.sha256, [...sha256s]), isNull(rawPayloads.workflowStartedAt)));
}
