// The reservation ledger in PostgreSQL: (candidate, start window) bookings against each candidate's capacity over
// time. Every booking change runs in one transaction holding a transaction-scoped advisory lock per candidate it
// reads or writes (taken in id order, so two transactions never wait on each other in a cycle).
import { and, asc, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { ReservationLedger, ReservedSlot } from '../scheduling/reservation-ledger.js';
import { bucketOf, bucketSpan, type Occupancy } from '../shared/capacity-buckets.js';
import type { RunState } from '../shared/run-state.js';
import type { Database } from './client.js';
import { capacityBuckets, gradingRuns, runReservations } from './schema.js';

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
type ReservationRow = typeof runReservations.$inferSelect;

export function createPostgresLedger(db: Database): ReservationLedger {
  return {
    async reserve(request, choose) {
      return db.transaction(async (tx) => {
        const earlier = await lockedReservation(tx, request.runId, request.candidateIds);
        if (earlier) await unbook(tx, earlier);
        const occupancy = await readOccupancy(tx, request.candidateIds, bucketOf(request.fromMs));
        const slot = choose(occupancy);
        await book(tx, request.runId, slot);
        return slot;
      });
    },

    async start(runId, startMs) {
      await db.transaction(async (tx) => {
        const row = await lockedReservation(tx, runId, []);
        if (!row) return;
        await unbook(tx, row);
        await book(tx, runId, { candidateId: row.candidateId, startMs, durationMs: row.durationMs }, new Date(startMs));
      });
    },

    release: (runId) => releaseReservation(db, runId),
  };
}

/** Frees the run's reservation, if it has one. Idempotent. */
export async function releaseReservation(db: Database, runId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await lockedReservation(tx, runId, []);
    if (row) await unbook(tx, row);
  });
}

/** Frees the reservations of runs whose row is already final (their workflow ended without releasing). */
export async function releaseReservationsOfFinishedRuns(db: Database, finalStates: readonly string[]) {
  const stale = await db
    .select({ runId: runReservations.runId })
    .from(runReservations)
    .innerJoin(gradingRuns, eq(gradingRuns.id, runReservations.runId))
    .where(inArray(gradingRuns.state, [...finalStates] as RunState[]));
  for (const { runId } of stale) await releaseReservation(db, runId);
  return stale.length;
}

/**
 * Locks the candidates (plus the one the run's earlier reservation is on) and returns that reservation, read
 * after the locks so it cannot change underneath. The row lock also keeps two calls for one run apart.
 */
async function lockedReservation(tx: Transaction, runId: string, candidateIds: readonly string[]) {
  const [peek] = await tx
    .select({ candidateId: runReservations.candidateId })
    .from(runReservations)
    .where(eq(runReservations.runId, runId));
  const ids = [...new Set([...candidateIds, ...(peek ? [peek.candidateId] : [])])].sort();
  if (ids.length > 0) {
    const list = sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    );
    // Volatile functions in the select list run after the sort, so the locks are taken in id order.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('greengrader:capacity:' || id))
      from unnest(array[${list}]::text[]) as id order by id`);
  }
  const [row] = await tx.select().from(runReservations).where(eq(runReservations.runId, runId)).for('update');
  // Moved to a candidate not locked here meanwhile (a concurrent call for the same run): lock and read again.
  if (row && !ids.includes(row.candidateId)) return lockedReservation(tx, runId, [...ids, row.candidateId]);
  return row ?? null;
}

async function readOccupancy(tx: Transaction, candidateIds: readonly string[], fromBucket: number) {
  const occupancy = new Map<string, Map<number, number>>();
  if (candidateIds.length === 0) return occupancy as Occupancy;
  const rows = await tx
    .select()
    .from(capacityBuckets)
    .where(and(inArray(capacityBuckets.candidateId, [...candidateIds]), gte(capacityBuckets.bucket, fromBucket)));
  for (const row of rows) {
    let buckets = occupancy.get(row.candidateId);
    if (!buckets) occupancy.set(row.candidateId, (buckets = new Map<number, number>()));
    buckets.set(row.bucket, row.reserved);
  }
  return occupancy as Occupancy;
}

async function book(tx: Transaction, runId: string, slot: ReservedSlot, startedAt: Date | null = null) {
  const { first, last } = bucketSpan(slot.startMs, slot.durationMs);
  await tx.insert(runReservations).values({
    runId,
    candidateId: slot.candidateId,
    startAt: new Date(slot.startMs),
    durationMs: Math.round(slot.durationMs),
    firstBucket: first,
    lastBucket: last,
    startedAt,
  });
  await tx.execute(sql`insert into ${capacityBuckets} (candidate_id, bucket, reserved)
    select ${slot.candidateId}, b, 1 from generate_series(${first}::bigint, ${last}::bigint) as b
    on conflict (candidate_id, bucket) do update set reserved = ${capacityBuckets}.reserved + 1`);
}

async function unbook(tx: Transaction, row: ReservationRow) {
  const span = and(
    eq(capacityBuckets.candidateId, row.candidateId),
    gte(capacityBuckets.bucket, row.firstBucket),
    lte(capacityBuckets.bucket, row.lastBucket),
  );
  await tx
    .update(capacityBuckets)
    .set({ reserved: sql`${capacityBuckets.reserved} - 1` })
    .where(span);
  await tx.delete(capacityBuckets).where(and(span, lte(capacityBuckets.reserved, 0)));
  await tx.delete(runReservations).where(eq(runReservations.runId, row.runId));
}

/**
 * Workflows of the runs waiting for a later start on the candidate, earliest first: when a run there ends before
 * its estimate, they are woken to plan again and may take the room it left.
 */
export async function runsWaitingOn(db: Database, candidateId: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ workflowId: gradingRuns.workflowId })
    .from(runReservations)
    .innerJoin(gradingRuns, eq(gradingRuns.id, runReservations.runId))
    .where(and(eq(runReservations.candidateId, candidateId), isNull(runReservations.startedAt)))
    .orderBy(asc(runReservations.startAt))
    .limit(limit);
  return rows.map((row) => row.workflowId);
}
