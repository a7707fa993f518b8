// The benchmark's memory ledger (bench/memory-ledger.ts) and the product's PostgreSQL ledger apply one rule: driven
// through the same plans, starts (some on another node, as spilled runs), releases and clock, every plan reads the
// same occupancy from both and both accept or refuse the same bookings. bench:carbon's numbers stand for the
// product's only while this holds, started runs held past their booking (migration 0017) included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryLedger } from '../../bench/memory-ledger.js';
import { createRng } from '../../bench/rng.js';
import { createPostgresLedger } from '../../src/db/reservations.js';
import type { ReservationLedger, ReservedSlot } from '../../src/scheduling/reservation-ledger.js';
import { bucketOf, CAPACITY_BUCKET_MS, type Occupancy } from '../../src/shared/capacity-buckets.js';
import { withoutSaturatedBuckets } from '../support/expected-full-periods.js';
import { addRuns } from '../support/booked-runs.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;
const IDS = ['n1', 'n2'];
const CAPACITIES = new Map([
  ['n1', 2],
  ['n2', 1],
]);

/**
 * What a plan reads, as comparable data: busy time per bucket from the plan's bucket on, and full periods outside
 * buckets with no busy time left (the PostgreSQL read leaves those out; no start touching them has room anyway).
 */
function readable(occupancy: Occupancy, fromMs: number) {
  return IDS.map((id) => {
    const busy = [...(occupancy.busy.get(id) ?? [])].filter(([bucket, ms]) => bucket >= bucketOf(fromMs) && ms > 0);
    busy.sort(([a], [b]) => a - b);
    const full = withoutSaturatedBuckets(occupancy.full.get(id) ?? [], occupancy.busy.get(id), CAPACITIES.get(id)!);
    return { id, busy, full: full.filter((period) => period.endMs > bucketOf(fromMs) * CAPACITY_BUCKET_MS) };
  });
}

describe('the memory ledger and the PostgreSQL ledger', () => {
  let database: MigratedDatabase;

  before(async () => {
    database = await createMigratedDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  it('read the same occupancy and take the same bookings through plans, starts, spills, overruns and releases', async () => {
    const rng = createRng(2031);
    const runIds = await addRuns(database.db, 40, T0);
    const ledgers: ReservationLedger[] = [new MemoryLedger(), createPostgresLedger(database.db)];
    const state = new Map<string, 'booked' | 'started'>();
    let nowMs = T0;
    let held = 0;
    // 300 steps, the clock moving 0–90 s each: runs are booked a few minutes ahead for 1–6 min, start at the
    // clock (a fifth of them on the other node), and are released at random, so many run past their booking.
    for (let step = 0; step < 300; step += 1) {
      nowMs += Math.floor(rng.uniform(0, 90_000));
      const runId = runIds[Math.floor(rng.uniform(0, runIds.length))]!;
      const roll = rng.uniform(0, 1);
      if (state.get(runId) === 'started') {
        if (roll < 0.3) {
          for (const ledger of ledgers) await ledger.release(runId);
          state.delete(runId);
        }
      } else if (state.get(runId) === 'booked' && roll < 0.5) {
        const on = rng.chance(0.2) ? IDS[Math.floor(rng.uniform(0, 2))] : undefined;
        for (const ledger of ledgers) await ledger.start(runId, nowMs, on);
        state.set(runId, 'started');
      } else {
        const slot: ReservedSlot = {
          candidateId: IDS[Math.floor(rng.uniform(0, 2))]!,
          startMs: nowMs + Math.floor(rng.uniform(0, 10 * MIN)),
          durationMs: MIN + Math.floor(rng.uniform(0, 5 * MIN)),
        };
        const reads: unknown[] = [];
        const outcomes: string[] = [];
        for (const [index, ledger] of ledgers.entries()) {
          const outcome = await ledger
            .reserve({ runId, candidateIds: IDS, fromMs: nowMs, capacities: CAPACITIES }, (occupancy) => {
              // A plan tried first on a copy of the book that turns out stale is made again: the last one counts.
              reads[index] = readable(occupancy, nowMs);
              return slot;
            })
            .then(
              () => 'booked',
              (error: Error) => {
                // The booking guard refuses a bucket past its busy time, in both: nothing booked, the earlier kept.
                assert.match(error.message, /capacity of .* exceeded/);
                return 'refused';
              },
            );
          outcomes.push(outcome);
        }
        assert.deepEqual(reads[1], reads[0], `step ${step}: the plan reads the same occupancy`);
        assert.equal(outcomes[1], outcomes[0], `step ${step}: both ledgers book or refuse alike`);
        if (outcomes[0] === 'booked') state.set(runId, 'booked');
      }
      if ([...state.values()].includes('started')) held += 1;
    }
    assert.ok(held > 100, 'started runs were on the books for most of the steps');
  });
});
