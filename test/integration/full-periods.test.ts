// The full periods PostgreSQL keeps per bucket (migrations 0014, 0015) against the pure rule (capacity-instants.ts):
// after any mix of bookings, moves, starts, releases and a changed capacity, the planner's read holds exactly the
// full periods of every booked run (less those inside buckets with no busy time left), and it is one row per
// candidate (its buckets in one text): no booked run is read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createRng } from '../../bench/rng.js';
import { createPostgresLedger, type OccupancyRow, occupancyOf, occupancyRead } from '../../src/db/reservations.js';
import { runReservations } from '../../src/db/schema.js';
import { CAPACITY_BUCKET_MS } from '../../src/shared/capacity-buckets.js';
import { expectedFullPeriods } from '../support/expected-full-periods.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { addRuns as addRunsTo } from '../support/booked-runs.js';

const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;

describe('full periods kept in PostgreSQL', () => {
  let database: MigratedDatabase;

  before(async () => {
    database = await createMigratedDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  const addRuns = (count: number) => addRunsTo(database.db, count, T0);

  /** The planner's read as greengrader_reserve_begin returns it (without its locks), and its row count. */
  async function readOccupancy() {
    const { rows: ids } = await database.db.execute<{ id: string }>(
      sql`select distinct candidate_id as id from capacity_buckets`,
    );
    const { rows } = await database.db.execute<OccupancyRow>(
      occupancyRead(
        ids.map((row) => row.id),
        T0,
      ),
    );
    return { occupancy: occupancyOf(rows, T0), rows: rows.length, candidates: ids.length };
  }

  /** The full periods the read must hold for every booked run per candidate, by the pure rule. */
  async function expectedFull(capacities: ReadonlyMap<string, number>) {
    return expectedFullPeriods(await database.db.select().from(runReservations), capacities);
  }

  it('match the full periods of every booked run after bookings, moves, starts, releases and a new capacity', async () => {
    const rng = createRng(12);
    const runIds = await addRuns(160);
    const ledger = createPostgresLedger(database.db);
    const ids = ['n1', 'n2'];
    let capacities = new Map([
      ['n1', 2],
      ['n2', 3],
    ]);
    // 400 steps over 160 runs in a 2-hour window: buckets crowd, runs cross boundaries, some bookings are refused.
    for (let step = 0; step < 400; step += 1) {
      const runId = runIds[Math.floor(rng.uniform(0, runIds.length))]!;
      const roll = rng.uniform(0, 1);
      if (step === 250)
        capacities = new Map([
          ['n1', 3],
          ['n2', 2],
        ]);
      if (roll < 0.75) {
        const slot = {
          candidateId: ids[Math.floor(rng.uniform(0, 2))]!,
          startMs: T0 + Math.floor(rng.uniform(0, 120)) * MIN + (rng.chance(0.5) ? Math.floor(rng.uniform(0, MIN)) : 0),
          durationMs: 1 + Math.floor(rng.uniform(0, 9 * MIN)),
        };
        await ledger
          .reserve({ runId, candidateIds: ids, fromMs: T0, capacities }, () => slot)
          .catch((error: Error) => {
            // The booking guard refuses a bucket past its busy time: nothing is booked, the earlier booking stays.
            if (!/capacity of .* exceeded/.test(error.message)) throw error;
          });
      } else if (roll < 0.85) {
        await ledger.start(runId, T0 + Math.floor(rng.uniform(0, 120 * MIN)));
      } else {
        await ledger.release(runId);
      }
      if (step % 50 === 49 || step === 250) {
        const { occupancy } = await readOccupancy();
        assert.deepEqual(occupancy.full, await expectedFull(capacities), `after step ${step}`);
      }
    }
    const { occupancy, rows, candidates } = await readOccupancy();
    assert.ok(occupancy.full.size > 0, 'the book has full periods to compare');
    // Buckets whose runs all left stay, empty, until they are past (migration 0016): the read leaves them out.
    const live = sql`select count(*)::int as buckets from capacity_buckets where reserved > 0`;
    const [{ buckets }] = (await database.db.execute<{ buckets: number }>(live)).rows as [{ buckets: number }];
    assert.equal(rows, candidates, 'the read is one row per candidate, whatever the runs in it');
    const read = [...occupancy.busy.values()].reduce((sum, perBucket) => sum + perBucket.size, 0);
    assert.equal(read, buckets, 'every bucket is in it, once');
    const [{ leftOut }] = (
      await database.db.execute<{ leftOut: number }>(
        sql`select count(*)::int as "leftOut" from capacity_buckets b join candidate_capacities c using (candidate_id)
          where b.full_ms is not null and b.busy_ms >= c.slots * ${CAPACITY_BUCKET_MS}`,
      )
    ).rows as [{ leftOut: number }];
    assert.ok(leftOut > 0, 'some buckets with no busy time left hold full periods the read leaves out');
  });
});
