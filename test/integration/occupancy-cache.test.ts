// The book a plan reads through its process's copy (src/db/occupancy-cache.ts, migration 0016): only the buckets
// written since that process's last read come from PostgreSQL, yet the planner is handed exactly what a whole read
// in the same transaction holds, whatever other processes, releases, starts, capacity changes and writes outside
// the ledger did in between.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { createRng } from '../../bench/rng.js';
import { connectDatabase, type Database, type DatabaseHandle } from '../../src/db/client.js';
import { type OccupancyRow } from '../../src/db/occupancy-cache.js';
import { readBucketChanges } from '../../src/db/occupancy-text.js';
import { createPostgresLedger, occupancyOf } from '../../src/db/reservations.js';
import type { ReservedSlot } from '../../src/scheduling/reservation-ledger.js';
import { bucketOf, bucketSpan, CAPACITY_BUCKET_MS, type Occupancy } from '../../src/shared/capacity-buckets.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { addRuns as addRunsTo } from '../support/booked-runs.js';

const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;
const IDS = ['n1', 'n2'];

/** A copy the planner's later reads cannot change. */
function snapshot(occupancy: Occupancy): Occupancy {
  return {
    busy: new Map([...occupancy.busy].map(([id, buckets]) => [id, new Map(buckets)])),
    full: new Map([...occupancy.full].map(([id, periods]) => [id, periods.map((period) => ({ ...period }))])),
  };
}

describe('the occupancy a plan reads through its copy of the book', () => {
  let database: MigratedDatabase;
  /** A second process's connections (its own copy of the book), whose round trips and reads are recorded. */
  let other: DatabaseHandle;
  const sent: Array<{ text: string; reads: OccupancyRow[][] }> = [];

  before(async () => {
    database = await createMigratedDatabase();
    other = connectDatabase(database.url, { maxConnections: 2 });
    other.pool.on('connect', (client: pg.PoolClient) => {
      const send = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      Object.assign(client, {
        query: async (...args: unknown[]) => {
          const [first] = args;
          const trip = { text: typeof first === 'string' ? first : '', reads: [] as OccupancyRow[][] };
          sent.push(trip);
          const result = await send(...args);
          for (const reply of Array.isArray(result) ? result : [result]) {
            const rows = (reply as { rows?: Array<Record<string, unknown>> } | undefined)?.rows ?? [];
            if (rows.some((row) => typeof row.buckets === 'string')) trip.reads.push(rows as OccupancyRow[]);
          }
          return result;
        },
      });
    });
  });
  after(async () => {
    await other?.close();
    await database?.drop();
  });

  const addRuns = (count: number) => addRunsTo(database.db, count, T0);

  /** What a whole read holds in the transaction the plan would run in (its earlier booking freed), rolled back. */
  async function wholeReadAsPlanned(runId: string, fromMs: number, capacities: ReadonlyMap<string, number>) {
    const client = await database.db.$client.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<OccupancyRow>(
        `select * from greengrader_reserve_begin($1, $2, $3, $4, $5, $6)`,
        [runId, IDS, bucketOf(fromMs), [...capacities.keys()], [...capacities.values()], IDS.map(() => 0)],
      );
      return occupancyOf(rows, fromMs);
    } finally {
      await client.query('rollback');
      client.release();
    }
  }

  /** Books the slot through `db`'s ledger; returns the occupancy its planner was handed. */
  async function plan(
    db: Database,
    runId: string,
    slot: ReservedSlot,
    fromMs = T0,
    capacities = new Map([
      ['n1', 3],
      ['n2', 2],
    ]),
  ) {
    let handed: Occupancy | undefined;
    await createPostgresLedger(db).reserve({ runId, candidateIds: IDS, fromMs, capacities }, (occupancy) => {
      handed = snapshot(occupancy);
      return slot;
    });
    assert.ok(handed);
    return handed;
  }

  const bucketsOf = (slot: ReservedSlot) => {
    const { first, last } = bucketSpan(slot.startMs, slot.durationMs);
    return Array.from({ length: last - first + 1 }, (_, i) => `${slot.candidateId}@${first + i}`);
  };
  /** The buckets a read listed, as candidate@bucket. */
  const listed = (rows: readonly OccupancyRow[] = []) =>
    rows.flatMap((row) =>
      readBucketChanges(row.buckets, bucketOf(T0)).map((change) => `${row.candidate_id}@${change.bucket}`),
    );
  /** The other process's round trips during `action`: texts, the locking reads' and the own-writes reads' lists. */
  async function tripsOf(action: () => Promise<unknown>) {
    const from = sent.length;
    await action();
    const trips = sent.slice(from);
    const readIn = (statement: string) =>
      trips.filter((trip) => trip.text.includes(statement)).map((trip) => listed(trip.reads.at(-1)));
    return {
      count: trips.length,
      /** A try on the copy was refused: the locking read went with the rollback. */
      refused: trips.some((trip) => trip.text.startsWith('rollback')),
      lockingReads: readIn('greengrader_reserve_begin('),
      ownWrites: readIn('greengrader_book('),
    };
  }

  it('reads only the buckets written since its last plan, and hands the planner what a whole read holds', async () => {
    const runs = await addRuns(64);
    // Another process books 60 runs over three hours on two nodes.
    for (let i = 0; i < 60; i += 1) {
      const slot = { candidateId: IDS[i % 2]!, startMs: T0 + (i % 36) * 5 * MIN + 1_000, durationMs: 7 * MIN };
      await plan(database.db, runs[i]!, slot);
    }
    const first = { candidateId: 'n1', startMs: T0 + 40 * MIN, durationMs: 3 * MIN };
    const capacities = new Map([
      ['n1', 3],
      ['n2', 2],
    ]);
    const expected = await wholeReadAsPlanned(runs[60]!, T0, capacities);
    let handed: Occupancy | undefined;
    const firstTrips = await tripsOf(async () => (handed = await plan(other.db, runs[60]!, first)));
    assert.deepEqual(handed, expected, 'the first plan reads the book whole');
    const booked = [...expected.busy.values()].reduce((sum, buckets) => sum + buckets.size, 0);
    assert.equal(firstTrips.count, 2, 'no copy yet: the locking read, then the booking');
    assert.equal(firstTrips.lockingReads[0]?.length, booked, 'the first read lists every booked bucket');
    assert.deepEqual(firstTrips.ownWrites[0]?.sort(), bucketsOf(first).sort(), 'then what its booking wrote');

    // Its next plan reads nothing: its own booking was read back. The book is then known quiet, and the plan after
    // is made on the copy: one round trip, no locking read.
    const second = { candidateId: 'n2', startMs: T0 + 2 * 60 * MIN + 30_000, durationMs: 6 * MIN };
    const before = await wholeReadAsPlanned(runs[61]!, T0, capacities);
    const secondTrips = await tripsOf(async () => (handed = await plan(other.db, runs[61]!, second)));
    assert.deepEqual(handed, before);
    assert.equal(secondTrips.count, 2);
    assert.deepEqual(secondTrips.lockingReads, [[]], 'its read brings nothing: the copy was current');
    assert.deepEqual(secondTrips.ownWrites[0]?.sort(), bucketsOf(second).sort());
    const quiet = { candidateId: 'n1', startMs: T0 + 2 * 60 * MIN + 45 * MIN, durationMs: 3 * MIN };
    const quietBook = await wholeReadAsPlanned(runs[63]!, T0, capacities);
    const quietTrips = await tripsOf(async () => (handed = await plan(other.db, runs[63]!, quiet)));
    assert.deepEqual(handed, quietBook);
    assert.equal(quietTrips.count, 1, 'a quiet, unchanged book: planned on the copy, booked in one round trip');
    assert.deepEqual(quietTrips.lockingReads, []);
    assert.deepEqual(quietTrips.ownWrites[0]?.sort(), bucketsOf(quiet).sort());

    // Another process moves one of its runs: the book changed, so the plan on the copy is refused, and the locking
    // read lists only the buckets the move left and took.
    const moved = { candidateId: 'n1', startMs: T0 + 10 * MIN, durationMs: 4 * MIN };
    await plan(database.db, runs[0]!, moved);
    const left = bucketsOf({ candidateId: 'n1', startMs: T0 + 1_000, durationMs: 7 * MIN });
    const third = { candidateId: 'n1', startMs: T0 + 3 * 60 * MIN, durationMs: 2 * MIN };
    const now = await wholeReadAsPlanned(runs[62]!, T0, capacities);
    const thirdTrips = await tripsOf(async () => (handed = await plan(other.db, runs[62]!, third)));
    assert.deepEqual(handed, now);
    assert.equal(thirdTrips.count, 3, 'refused on the copy, then the locking read and the booking');
    assert.ok(thirdTrips.refused);
    assert.deepEqual(thirdTrips.lockingReads[0]?.sort(), [...new Set([...left, ...bucketsOf(moved)])].sort());

    // A re-plan of a run this process booked frees that booking, so it never tries the copy first.
    const again = { candidateId: 'n2', startMs: T0 + 4 * 60 * MIN, durationMs: 2 * MIN };
    const replanned = await wholeReadAsPlanned(runs[61]!, T0, capacities);
    const replanTrips = await tripsOf(async () => (handed = await plan(other.db, runs[61]!, again)));
    assert.deepEqual(handed, replanned);
    assert.equal(replanTrips.count, 2, 'a re-plan: the locking read, then the booking');
    assert.deepEqual(replanTrips.lockingReads[0]?.sort(), bucketsOf(second).sort(), 'the earlier booking freed');
  });

  it('keeps its copy exact when a plan fails while another plan of the process waits on its read', async () => {
    const runs = await addRuns(8);
    const capacities = new Map([
      ['n1', 3],
      ['n2', 2],
    ]);
    const slotOf = (i: number) => ({
      candidateId: IDS[i % 2]!,
      startMs: T0 + 9 * 60 * MIN + i * 10 * MIN,
      durationMs: 5 * MIN,
    });
    for (let i = 0; i < 3; i += 1) await plan(other.db, runs[i]!, slotOf(i));
    // A transaction elsewhere holds n1's lock: both plans below send their locking reads and wait, the failing one
    // first, so it is granted the lock first and drops the copy while the other's partial read waits.
    const blocker = await database.db.$client.connect();
    const ledger = createPostgresLedger(other.db);
    const request = (runId: string) => ({ runId, candidateIds: IDS, fromMs: T0, capacities });
    const waiting = async () => {
      for (let tries = 0; tries < 100; tries += 1) {
        const { rows } = await blocker.query<{ n: string }>(`select count(*) as n from pg_locks where not granted`);
        if (Number(rows[0]?.n) > 0) return Number(rows[0]?.n);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('no plan waits on the lock');
    };
    try {
      await blocker.query(`begin; select pg_advisory_xact_lock(hashtext('greengrader:capacity:n1'))`);
      // A re-plan of a run this process booked: never tried on the copy, so it sends its locking read.
      const failing = ledger.reserve(request(runs[0]!), () => {
        throw new Error('planner failed');
      });
      const failed = assert.rejects(failing, /planner failed/);
      await waiting();
      const booking = ledger.reserve(request(runs[4]!), () => slotOf(4));
      while ((await waiting()) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      await blocker.query('commit');
      await failed;
      await booking;
    } finally {
      blocker.release();
    }
    for (let i = 5; i < 8; i += 1) {
      const expected = await wholeReadAsPlanned(runs[i]!, T0, capacities);
      assert.deepEqual(await plan(other.db, runs[i]!, slotOf(i)), expected, `plan ${i}: the planner's book`);
    }
  });

  it('tries the copy for a quiet candidate while another, busy with runs starting and ending, is read', async () => {
    const runs = await addRuns(15);
    const capacities = new Map([
      ['n1', 3],
      ['n2', 2],
    ]);
    const ledger = createPostgresLedger(other.db);
    let at = T0 + 12 * 60 * MIN;
    // One candidate per plan, as a home-only policy plans.
    const planOn = (candidateId: string, runId: string) =>
      tripsOf(() =>
        ledger.reserve({ runId, candidateIds: [candidateId], fromMs: T0, capacities }, () => {
          at += 10 * MIN;
          return { candidateId, startMs: at, durationMs: 5 * MIN };
        }),
      );
    const elsewhere = async (runId: string) =>
      plan(database.db, runId, { candidateId: 'n2', startMs: (at += 10 * MIN), durationMs: 5 * MIN });
    // Whatever the process's copy held before, n1 is quiet after a read that brings nothing new.
    await planOn('n1', runs[0]!);
    await planOn('n2', runs[1]!);
    await planOn('n1', runs[2]!);
    // n2 changes before each of its plans. Its first plan may still try the copy (n2 may have looked quiet); from
    // then on it is read without a try, while n1 keeps being planned on the copy.
    for (let k = 0; k < 4; k += 1) {
      const [foreign, onBusy, onQuiet] = [runs[3 + 3 * k]!, runs[4 + 3 * k]!, runs[5 + 3 * k]!];
      await elsewhere(foreign);
      const busy = await planOn('n2', onBusy);
      if (k > 0) assert.deepEqual([busy.count, busy.refused], [2, false], `round ${k}: n2 changed, read, no try`);
      assert.equal((await planOn('n1', onQuiet)).count, 1, `round ${k}: n1 is still quiet, planned on the copy`);
    }
  });

  it('raises the epoch when a bucket with runs goes or the buckets are truncated, never for an empty bucket', async () => {
    const epoch = async () => {
      const { rows } = await database.db.execute<{ epoch: string }>(sql`select epoch from capacity_book_epoch`);
      return Number(rows[0]?.epoch);
    };
    const [kept, gone] = await addRuns(2);
    const ledger = createPostgresLedger(database.db);
    await plan(database.db, kept!, { candidateId: 'n1', startMs: T0 + 4 * 60 * MIN, durationMs: MIN });
    await plan(database.db, gone!, { candidateId: 'n2', startMs: T0 + 5 * 60 * MIN, durationMs: MIN });
    const start = await epoch();
    // A released run leaves its bucket empty; purging empty buckets changes no copy of the book.
    await ledger.release(gone!);
    await database.db.execute(sql`delete from capacity_buckets where reserved = 0`);
    assert.equal(await epoch(), start, 'empty buckets went without a new epoch');
    await database.db.execute(sql`delete from capacity_buckets
      where candidate_id = 'n1' and bucket = ${bucketOf(T0 + 4 * 60 * MIN)}`);
    const afterDelete = await epoch();
    assert.ok(afterDelete > start, 'a deleted bucket with a run in it raised the epoch');
    await database.db.execute(sql`truncate capacity_buckets, run_reservations`);
    assert.ok((await epoch()) > afterDelete, 'the truncate raised the epoch');
  });

  it("hands every plan of two processes a whole read's book, among moves, starts, releases and foreign writes", async () => {
    const rng = createRng(16);
    const runs = await addRuns(120);
    const ledgers = [createPostgresLedger(database.db), createPostgresLedger(other.db)];
    const dbs = [database.db, other.db];
    let capacities = new Map([
      ['n1', 3],
      ['n2', 2],
    ]);
    let fromMs = T0;
    let plans = 0;
    let onCopy = 0;
    let refusedOnCopy = 0;
    for (let step = 0; step < 360; step += 1) {
      const side = Math.floor(rng.uniform(0, 2));
      const runId = runs[Math.floor(rng.uniform(0, runs.length))]!;
      if (step === 180)
        capacities = new Map([
          ['n1', 2],
          ['n2', 3],
        ]);
      // Time passes (old buckets drop out of the copies), and once a plan reads from earlier than the last one.
      if (step % 60 === 59) fromMs += 5 * MIN;
      if (step === 300) fromMs -= 10 * MIN;
      const roll = rng.uniform(0, 1);
      if (roll < 0.65) {
        const slot = {
          candidateId: IDS[Math.floor(rng.uniform(0, 2))]!,
          startMs: fromMs + Math.floor(rng.uniform(0, 90)) * MIN + Math.floor(rng.uniform(0, MIN)),
          durationMs: 1 + Math.floor(rng.uniform(0, 8 * MIN)),
        };
        const expected = await wholeReadAsPlanned(runId, fromMs, capacities);
        let handed: Occupancy | null = null;
        const trips = await tripsOf(async () => {
          handed = await plan(dbs[side]!, runId, slot, fromMs, capacities).catch((error: Error) => {
            // The booking guard refuses a bucket past its busy time: nothing is booked, the earlier booking stays.
            if (!/capacity of .* exceeded/.test(error.message)) throw error;
            return null;
          });
        });
        // The recorded process's plans: on its copy in one round trip, or refused there and made again.
        if (handed && side === 1 && trips.lockingReads.length === 0) onCopy += 1;
        if (handed && side === 1 && trips.refused) refusedOnCopy += 1;
        if (handed) {
          assert.deepEqual(handed, expected, `step ${step}, process ${side}: the planner's book`);
          plans += 1;
        }
      } else if (roll < 0.78) {
        await ledgers[side]!.start(runId, fromMs + Math.floor(rng.uniform(0, 90 * MIN)));
      } else if (roll < 0.94) {
        await ledgers[side]!.release(runId);
      } else {
        // Writes outside the ledger's functions and locks: a bucket changed, a bucket deleted, the book emptied.
        const id = IDS[Math.floor(rng.uniform(0, 2))]!;
        const first = sql`(select min(bucket) from capacity_buckets where candidate_id = ${id} and reserved > 0)`;
        if (step % 3 === 0)
          await database.db.execute(sql`update capacity_buckets set busy_ms = busy_ms + 1
          where candidate_id = ${id} and bucket = ${first}`);
        else if (step % 3 === 1)
          await database.db.execute(sql`delete from capacity_buckets where candidate_id = ${id} and bucket = ${first}`);
        else await database.db.execute(sql`truncate capacity_buckets, run_reservations`);
      }
    }
    assert.ok(plans > 150, `${plans} plans compared`);
    assert.ok(onCopy >= 5 && refusedOnCopy >= 5, `${onCopy} plans booked on the copy, ${refusedOnCopy} refused there`);
  });
});
