// Migration 0015 on a book written by 0014: each bucket's spans are filled from its reservations and its full
// periods counted again from them, so a plan right after the upgrade reads exactly the full periods of the runs
// already booked, and later bookings and releases keep them exact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createRng } from '../../bench/rng.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createPostgresLedger, type OccupancyRow, occupancyOf, occupancyRead } from '../../src/db/reservations.js';
import { runReservations } from '../../src/db/schema.js';
import type { ReservedSlot } from '../../src/scheduling/reservation-ledger.js';
import { bucketCapacityMs, bucketOf, busyByBucket, CAPACITY_BUCKET_MS } from '../../src/shared/capacity-buckets.js';
import { expectedFullPeriods } from '../support/expected-full-periods.js';
import { databaseAtMigration } from '../support/database-at-migration.js';
import { addRuns as addRunsTo } from '../support/booked-runs.js';

const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;
const CAPACITIES = new Map([
  ['n1', 2],
  ['n2', 3],
]);

describe('migration 0015 (bucket spans)', () => {
  let handle: DatabaseHandle;
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    ({ handle, drop } = await databaseAtMigration('0014_instant_capacity'));
  });
  after(async () => {
    await drop?.();
  });

  const addRuns = (count: number) => addRunsTo(handle.db, count, T0);

  /**
   * A plan as 0014's release made it, with 0014's functions: the ledger here calls 0016's read, which 0014 lacks
   * (the read's result does not matter, the slot is given).
   */
  async function reserveOn0014(runId: string, slot: ReservedSlot) {
    const { first, busyMs } = busyByBucket(slot.startMs, slot.durationMs);
    const capacityMs = bucketCapacityMs(CAPACITIES.get(slot.candidateId)!);
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`select * from greengrader_reserve_begin(${runId}::uuid, array['n1', 'n2']::text[],
        ${bucketOf(T0)}::bigint, array['n1', 'n2']::text[], array[2, 3]::integer[])`);
      await tx.execute(sql`select greengrader_book(${runId}::uuid, ${slot.candidateId},
        ${new Date(slot.startMs).toISOString()}::timestamptz, ${slot.durationMs}::integer, ${first}::bigint,
        ${`{${busyMs.join(',')}}`}::integer[], ${capacityMs}::bigint, null::timestamptz)`);
    });
  }

  /** Books (or moves) random runs on n1 and n2 through the ledger; the guard's refusals book nothing. */
  async function bookRandomly(runIds: readonly string[], seed: number, steps: number, on0014 = false) {
    const rng = createRng(seed);
    const ledger = createPostgresLedger(handle.db);
    const reserve = (runId: string, slot: ReservedSlot) =>
      on0014
        ? reserveOn0014(runId, slot)
        : ledger.reserve({ runId, candidateIds: ['n1', 'n2'], fromMs: T0, capacities: CAPACITIES }, () => slot);
    for (let step = 0; step < steps; step += 1) {
      const runId = runIds[Math.floor(rng.uniform(0, runIds.length))]!;
      const slot = {
        candidateId: rng.chance(0.5) ? 'n1' : 'n2',
        startMs: T0 + Math.floor(rng.uniform(0, 90)) * MIN + Math.floor(rng.uniform(0, MIN)),
        durationMs: 1 + Math.floor(rng.uniform(0, 8 * MIN)),
      };
      if (rng.chance(0.15)) await ledger.release(runId);
      else
        await reserve(runId, slot).catch((error: Error & { cause?: { message?: string } }) => {
          if (!/capacity of .* exceeded/.test(`${error.message} ${error.cause?.message ?? ''}`)) throw error;
        });
    }
  }

  /** What the planner reads now against the pure rule over every booked run. */
  async function assertFullPeriodsExact(label: string) {
    const { rows } = await handle.db.execute<OccupancyRow>(occupancyRead(['n1', 'n2'], T0));
    const expected = expectedFullPeriods(await handle.db.select().from(runReservations), CAPACITIES);
    assert.ok(expected.size > 0, `${label}: the book has full periods to compare`);
    assert.deepEqual(occupancyOf(rows, T0).full, expected, label);
  }

  it('fills spans and full periods from the book 0014 left, and keeps them exact afterwards', async () => {
    const runIds = await addRuns(60);
    await bookRandomly(runIds, 5, 150, true);
    const { rows } = await handle.db.execute<{ booked: number }>(
      sql`select count(*)::int as booked from run_reservations`,
    );
    assert.ok((rows[0]?.booked ?? 0) > 30, 'the old book holds runs');

    await migrateDatabase(handle.pool);
    await assertFullPeriodsExact('right after the migration');
    await bookRandomly(runIds, 6, 100);
    await assertFullPeriodsExact('after more bookings and releases');
  });
});
