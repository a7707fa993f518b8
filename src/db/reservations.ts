// The reservation ledger in PostgreSQL: (candidate, start window) bookings against each candidate's capacity over
// time. Each step is one SQL function (migrations 0012–0018: locking, freeing, reading, booking, holding started
// runs), so a plan costs two round trips, one transaction (see reserveAndRecord); that transaction holds a
// transaction-scoped advisory lock per candidate it reads or writes (taken in id order, so two transactions never
// wait in a cycle). The read returns only the buckets written since this process's last read (occupancy-cache.ts).
import { and, asc, eq, inArray, isNull, notExists, type SQL, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { ReservationLedger, ReservedSlot, ReserveRequest } from '../scheduling/reservation-ledger.js';
import { bucketCapacityMs, bucketOf, busyByBucket, type Occupancy } from '../shared/capacity-buckets.js';
import { STARTED_RUN_HOLD_MS } from '../shared/started-hold.js';
import type { RunState } from '../shared/run-state.js';
import type { Database } from './client.js';
import { OccupancyCache, type OccupancyRow } from './occupancy-cache.js';
import { releaseAfterFailure } from './release-after-failure.js';
import { integerArrayLiteral, integerLiteral, textArrayLiteral, textLiteral, typedLiteral } from './sql-literals.js';
import { gradingRuns, runReservations, runSlotClaims } from './schema.js';

export type { OccupancyRow } from './occupancy-cache.js';

/** One copy of the book per pool (per database): plans through it read only what changed since the last one. */
const caches = new WeakMap<pg.Pool, OccupancyCache>();
function cacheOf(db: Database): OccupancyCache {
  let cache = caches.get(db.$client);
  if (!cache) caches.set(db.$client, (cache = new OccupancyCache()));
  return cache;
}

export function createPostgresLedger(db: Database): ReservationLedger {
  return {
    reserve: (request, choose) => reserveAndRecord(db, request, choose),

    async start(runId, startMs, candidateId) {
      await db.transaction(async (tx) => {
        // Locks the candidate it starts on too: a spilled run's booking moves there.
        const lockedOn = sql.param(candidateId === undefined ? [] : [candidateId]);
        const { rows } = await tx.execute<{ candidate_id: string | null; duration_ms: number | null }>(
          sql`select greengrader_unbook(r), r.candidate_id, r.duration_ms
            from greengrader_lock_capacity(${runId}::uuid, ${lockedOn}::text[]) as r`,
        );
        const [row] = rows;
        if (!row?.candidate_id || row.duration_ms === null) return;
        const slot = { candidateId: candidateId ?? row.candidate_id, startMs, durationMs: row.duration_ms };
        await tx.execute(sql.raw(bookingOf(runId, slot, null, new Date(startMs))));
      });
    },

    release: (runId) => releaseReservation(db, runId),
  };
}

/** Frees the run's reservation, if it has one. Idempotent; one statement, so atomic without a transaction. */
export async function releaseReservation(db: Database, runId: string): Promise<void> {
  await db.execute(
    sql`select greengrader_unbook(r) from greengrader_lock_capacity(${runId}::uuid, array[]::text[]) as r`,
  );
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
 * The ledger's `reserve`, plus `record(slot)`: a statement (e.g. writing the plan on the run row) that commits or
 * rolls back with the booking. Two round trips, the fewest a transaction around the caller's planner allows:
 * `begin` with the locking read, then the booking, `record` and `commit` (a third, to read a candidate whole, only
 * when this process's copy of its book turns out stale). Both are multi-statement queries, which PostgreSQL takes
 * only without bind parameters, so their values are written in as escaped literals (sql-literals.ts).
 */
export async function reserveAndRecord<P extends ReservedSlot>(
  db: Database,
  request: ReserveRequest,
  choose: (occupancy: Occupancy) => P,
  record?: (slot: P) => string,
): Promise<P> {
  const client = await db.$client.connect();
  const cache = cacheOf(db);
  const { candidateIds } = request;
  const fromBucket = bucketOf(request.fromMs);
  try {
    // The capacities the buckets' full periods are counted against: only candidates it locks.
    const limited = [...(request.capacities ?? [])].filter(([id]) => candidateIds.includes(id));
    const since = cache.since(candidateIds, fromBucket);
    const run = `${textLiteral(request.runId)}::uuid`;
    const candidates = textArrayLiteral(candidateIds);
    const [, , read] = await queryAll<OccupancyRow>(client, [
      'begin',
      // Started runs past their booking on these candidates are held first (migration 0017), under the same locks:
      // the buckets it books again take new versions, so the read below brings them.
      `select greengrader_hold_started(${run}, ${candidates}, ${integerLiteral(Math.round(request.fromMs))}::bigint,
        ${integerLiteral(STARTED_RUN_HOLD_MS)}::integer)`,
      `select * from greengrader_reserve_begin(${run}, ${candidates}, ${integerLiteral(fromBucket)}::bigint,
        ${textArrayLiteral(limited.map(([id]) => id))}, ${integerArrayLiteral(
          limited.map(([, capacity]) => capacity),
          'integer',
        )}, ${integerArrayLiteral(since, 'bigint')})`,
    ]);
    const stale = cache.apply(read?.rows ?? [], fromBucket, new Map(candidateIds.map((id, i) => [id, since[i]!])));
    if (stale.length > 0) {
      // Something the ledger's functions did not write changed these candidates: read them whole, still locked.
      const [whole] = await queryAll<OccupancyRow>(client, [occupancyReadText(stale, request.fromMs)]);
      cache.apply(whole?.rows ?? [], fromBucket, new Map());
    }
    const slot = choose(cache.occupancy(candidateIds));
    const capacity = request.capacities?.get(slot.candidateId) ?? null;
    await queryAll(client, [
      bookingOf(request.runId, slot, capacity, null),
      ...(record ? [record(slot)] : []),
      'commit',
    ]);
    client.release();
    return slot;
  } catch (error) {
    // The copy may hold what the rolled-back transaction wrote (the earlier booking freed): read it whole next time.
    cache.forget(candidateIds);
    // After a failed statement PostgreSQL skips the rest of the query, `commit` included.
    await releaseAfterFailure(client);
    throw error;
  }
}

/** Runs the statements (values written in: sql-literals.ts) as one multi-statement query, one round trip. */
async function queryAll<R extends Record<string, unknown>>(
  client: pg.PoolClient,
  statements: readonly string[],
): Promise<Array<pg.QueryResult<R>>> {
  const text = statements.join(';\n');
  // pg's typings describe a single statement's result; for several it resolves to an array of them.
  const results = (await client.query<R>(text)) as pg.QueryResult<R> | Array<pg.QueryResult<R>>;
  return Array.isArray(results) ? results : [results];
}

/** The candidates' buckets from `fromMs`'s bucket on, whole (greengrader_occupancy_since after version 0). */
export function occupancyRead(candidateIds: readonly string[], fromMs: number): SQL {
  return sql.raw(occupancyReadText(candidateIds, fromMs));
}

function occupancyReadText(candidateIds: readonly string[], fromMs: number): string {
  const since = integerArrayLiteral(
    candidateIds.map(() => 0),
    'bigint',
  );
  return `select * from greengrader_occupancy_since(${textArrayLiteral(candidateIds)},
    ${integerLiteral(bucketOf(fromMs))}::bigint, ${since})`;
}

/** The planner's occupancy from a whole read (occupancyRead) from `fromMs`: busy time, full periods in order. */
export function occupancyOf(rows: readonly OccupancyRow[], fromMs: number): Occupancy {
  const cache = new OccupancyCache();
  cache.apply(rows, bucketOf(fromMs), new Map());
  return cache.occupancy(rows.map((row) => row.candidate_id));
}

/**
 * One statement: the reservation row and a multi-row upsert of its busy time per bucket (computed here, so the
 * planner and the ledger share capacity-buckets.ts), failing past `capacity` runs at once.
 */
function bookingOf(runId: string, slot: ReservedSlot, capacity: number | null, startedAt: Date | null): string {
  const { first, busyMs } = busyByBucket(slot.startMs, slot.durationMs);
  const capacityMs = capacity === null ? null : integerLiteral(bucketCapacityMs(capacity));
  const startedLiteral = startedAt === null ? null : textLiteral(startedAt.toISOString());
  const start = textLiteral(new Date(slot.startMs).toISOString());
  return `select greengrader_book(${textLiteral(runId)}::uuid, ${textLiteral(slot.candidateId)},
    ${start}::timestamptz, ${integerLiteral(Math.round(slot.durationMs))}::integer, ${integerLiteral(first)}::bigint,
    ${integerArrayLiteral(busyMs, 'integer')}, ${typedLiteral(capacityMs, 'bigint')},
    ${typedLiteral(startedLiteral, 'timestamptz')})`;
}

/**
 * Workflows of the runs waiting for a later start on the candidate, earliest first: when a run there ends before
 * its estimate, they are woken to plan again and may take the room it left. Runs already in the slot queue are
 * left out: the queue wakes as many of them as slots freed, and waking more only costs each a futile claim.
 */
export async function runsWaitingOn(db: Database, candidateId: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ workflowId: gradingRuns.workflowId })
    .from(runReservations)
    .innerJoin(gradingRuns, eq(gradingRuns.id, runReservations.runId))
    .where(
      and(
        eq(runReservations.candidateId, candidateId),
        isNull(runReservations.startedAt),
        // A run already in the slot queue is woken by the queue, first in line first: a wake here would be futile.
        notExists(
          db
            .select({ runId: runSlotClaims.runId })
            .from(runSlotClaims)
            .where(and(eq(runSlotClaims.runId, runReservations.runId), isNull(runSlotClaims.releasedAt))),
        ),
      ),
    )
    .orderBy(asc(runReservations.startAt))
    .limit(limit);
  return rows.map((row) => row.workflowId);
}
