// The reservation ledger in PostgreSQL: (candidate, start window) bookings against each candidate's capacity over
// time. Each step is one SQL function (migrations 0012–0019: locking, freeing, reading, booking, holding started
// runs), so a plan commits in one transaction of one or two round trips (see reserveAndRecord); that transaction
// holds a transaction-scoped advisory lock per candidate it reads or writes (taken in id order, so two transactions
// never wait in a cycle). The read returns only the buckets written since this process's last read
// (occupancy-cache.ts); a plan made on that copy first skips it, if the locks find the copy current.
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

/**
 * Per pool (per database): one copy of the book, so plans through it read only what changed since the last one;
 * the plans in flight through it and how many have started; the runs it booked lately (a re-plan frees its earlier
 * booking, which mostly changes the book it would plan on: it is not tried on the copy first); and the candidates
 * found quiet: the last first plan that read one found nothing new there (or its try on the copy went through),
 * and the process wrote there since only what it read back. A candidate where runs start and end between plans
 * changes every time, and a try on the copy would cost a refused round trip.
 */
interface PlanningState {
  cache: OccupancyCache;
  inFlight: number;
  started: number;
  booked: Set<string>;
  quiet: Set<string>;
}
/** Enough for a deadline burst's runs to re-plan from the copy's second read on; ~100 bytes each. */
const BOOKED_REMEMBERED = 20_000;
const states = new WeakMap<pg.Pool, PlanningState>();
function stateOf(db: Database): PlanningState {
  let state = states.get(db.$client);
  if (!state)
    states.set(
      db.$client,
      (state = { cache: new OccupancyCache(), inFlight: 0, started: 0, booked: new Set(), quiet: new Set() }),
    );
  return state;
}
function rememberBooked(state: PlanningState, runId: string): void {
  state.booked.delete(runId);
  state.booked.add(runId);
  const oldest = state.booked.values().next();
  if (state.booked.size > BOOKED_REMEMBERED && !oldest.done) state.booked.delete(oldest.value);
}

/** greengrader_reserve_unchanged's refusal (migration 0019): the copy was not current. */
const BOOK_CHANGED = 'GGB01';

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
 * rolls back with the booking. Both are multi-statement queries, which PostgreSQL takes only without bind
 * parameters, so their values are written in as escaped literals (sql-literals.ts).
 *
 * Round trips: one when this process's copy of the book is current, its candidates were found quiet, no other
 * plan of the process is in flight and the run has no booking from it (the plan is made on the copy, then locking,
 * booking, `record` and `commit` go together, refused unless the book is unchanged). Otherwise two: `begin` with
 * the locking read, then the booking, `record` and `commit` (one more after a refusal, and one to read a candidate
 * whole when the copy turns out stale). `choose` may thus be called twice; the slot it returned last is booked.
 */
export async function reserveAndRecord<P extends ReservedSlot>(
  db: Database,
  request: ReserveRequest,
  choose: (occupancy: Occupancy) => P,
  record?: (slot: P) => string,
): Promise<P> {
  const state = stateOf(db);
  const { cache } = state;
  const { candidateIds } = request;
  const fromBucket = bucketOf(request.fromMs);
  // The capacities the buckets' full periods are counted against: only candidates it locks.
  const limited = [...(request.capacities ?? [])].filter(([id]) => candidateIds.includes(id));
  const run = `${textLiteral(request.runId)}::uuid`;
  const candidates = textArrayLiteral(candidateIds);
  const limits = `${textArrayLiteral(limited.map(([id]) => id))}, ${integerArrayLiteral(
    limited.map(([, capacity]) => capacity),
    'integer',
  )}`;
  // Started runs past their booking on these candidates are held first (migration 0017), under the same locks:
  // the buckets it books again take new versions, so the read after it brings them.
  const holdStarted = `select greengrader_hold_started(${run}, ${candidates},
    ${integerLiteral(Math.round(request.fromMs))}::bigint, ${integerLiteral(STARTED_RUN_HOLD_MS)}::integer)`;
  // After booking, under the same locks: what the booking wrote, so the copy stays current for the next plan. Every
  // other change to these candidates since the copy's versions was read (or found absent) before the booking, so
  // reading back the booked candidate brings everything the copy lacks.
  const ownWrites = (slot: P, since: number) =>
    `select * from greengrader_occupancy_after(${textArrayLiteral([slot.candidateId])},
      ${integerLiteral(fromBucket)}::bigint, array[${integerLiteral(since)}]::bigint[])`;
  // The booking, optionally the read of what it wrote (its result second), the caller's record, and the commit.
  const bookAndCommit = (slot: P, ownWritesSince: number | null) => [
    bookingOf(request.runId, slot, request.capacities?.get(slot.candidateId) ?? null, null),
    ...(ownWritesSince === null ? [] : [ownWrites(slot, ownWritesSince)]),
    ...(record ? [record(slot)] : []),
    'commit',
  ];

  state.inFlight += 1;
  state.started += 1;
  const client = await db.$client.connect().catch((error: unknown) => {
    state.inFlight -= 1;
    throw error;
  });
  // Another plan in flight changes the book this one would plan on, and its reads may land after this one's.
  const alone = () => state.inFlight === 1;
  // The read-back of its own booking is sent only by a plan alone in flight, and applied only if no plan started
  // since it was sent: any read applied in between is newer. After the commit, so a failure only drops the copy.
  // Without it the copy lacks the booking, and the candidate is no longer quiet.
  const keepOwnWrites = (
    rows: readonly OccupancyRow[] | undefined,
    slot: P,
    since: number | null,
    startedAtSend: number,
  ) => {
    let kept = false;
    if (rows && since !== null && state.started === startedAtSend) {
      try {
        kept = cache.apply(rows, fromBucket, new Map([[slot.candidateId, since]])).length === 0;
      } catch {
        cache.forget([slot.candidateId]);
      }
    }
    if (!kept) state.quiet.delete(slot.candidateId);
  };
  // The copy's version of the booked candidate; null (nothing read back) for a candidate the plan did not read.
  const sinceOf = (slot: P, since: readonly number[]) => since[candidateIds.indexOf(slot.candidateId)] ?? null;
  try {
    let rolledBack = '';
    const firstPlan = !state.booked.has(request.runId);
    const copy = alone() ? cache.current(candidateIds, fromBucket) : null;
    if (copy && firstPlan && candidateIds.every((id) => state.quiet.has(id))) {
      const slot = choose(cache.occupancy(candidateIds));
      const unchanged = `select greengrader_reserve_unchanged(${run}, ${candidates}, ${integerLiteral(fromBucket)}::bigint,
        ${limits}, ${integerArrayLiteral(copy.since, 'bigint')}, ${integerLiteral(copy.epoch)}::bigint)`;
      const startedAtSend = state.started;
      const refused = await queryAll<OccupancyRow>(client, [
        'begin',
        holdStarted,
        unchanged,
        ...bookAndCommit(slot, sinceOf(slot, copy.since)),
      ]).then(
        (results) => {
          keepOwnWrites(results[4]?.rows, slot, sinceOf(slot, copy.since), startedAtSend);
          return false;
        },
        (error: unknown) => {
          if ((error as { code?: unknown }).code !== BOOK_CHANGED) throw error;
          return true;
        },
      );
      if (!refused) return done(slot);
      for (const id of candidateIds) state.quiet.delete(id);
      rolledBack = 'rollback';
    }

    const since = cache.since(candidateIds, fromBucket);
    const first = await queryAll<OccupancyRow>(client, [
      ...(rolledBack ? [rolledBack] : []),
      'begin',
      holdStarted,
      `select * from greengrader_reserve_begin(${run}, ${candidates}, ${integerLiteral(fromBucket)}::bigint,
        ${limits}, ${integerArrayLiteral(since, 'bigint')})`,
    ]);
    const stale = cache.apply(
      first.at(-1)?.rows ?? [],
      fromBucket,
      new Map(candidateIds.map((id, i) => [id, since[i]!])),
    );
    if (stale.length > 0) {
      // Something the ledger's functions did not write changed these candidates: read them whole, still locked.
      const [whole] = await queryAll<OccupancyRow>(client, [occupancyReadText(stale, request.fromMs)]);
      cache.apply(whole?.rows ?? [], fromBucket, new Map());
    }
    if (firstPlan && !rolledBack) {
      // Quiet: nothing new since the copy (read alone, so no other plan of the process wrote in between).
      const nothingNew = new Set(
        (first.at(-1)?.rows ?? []).filter((row) => row.buckets === '').map((row) => row.candidate_id),
      );
      for (const id of candidateIds) {
        if (copy !== null && nothingNew.has(id) && !stale.includes(id)) state.quiet.add(id);
        else state.quiet.delete(id);
      }
    }
    const slot = choose(cache.occupancy(candidateIds));
    const read = cache.since(candidateIds, fromBucket);
    const reportOwn = alone();
    const startedAtSend = state.started;
    const second = await queryAll<OccupancyRow>(client, bookAndCommit(slot, reportOwn ? sinceOf(slot, read) : null));
    keepOwnWrites(reportOwn ? second[1]?.rows : undefined, slot, sinceOf(slot, read), startedAtSend);
    return done(slot);
  } catch (error) {
    // The copy may hold what the rolled-back transaction wrote (the earlier booking freed): read it whole next time.
    cache.forget(candidateIds);
    // After a failed statement PostgreSQL skips the rest of the query, `commit` included.
    await releaseAfterFailure(client);
    throw error;
  } finally {
    state.inFlight -= 1;
  }

  function done(slot: P): P {
    rememberBooked(state, request.runId);
    client.release();
    return slot;
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
