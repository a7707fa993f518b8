// A started run holds its slot until it is released (migration 0017, src/shared/started-hold.ts), and a run that
// spilled holds it where it runs: the next plan in a real PostgreSQL sees the slot busy, not free at its booking's end.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createPostgresLedger } from '../../src/db/reservations.js';
import { runReservations } from '../../src/db/schema.js';
import { fits, planWithCapacity } from '../../src/scheduling/capacity-plan.js';
import type { PlacementCandidate } from '../../src/scheduling/policies.js';
import type { ReservationLedger } from '../../src/scheduling/reservation-ledger.js';
import { CAPACITY_BUCKET_MS, type Occupancy } from '../../src/shared/capacity-buckets.js';
import { STARTED_RUN_HOLD_MS } from '../../src/shared/started-hold.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { addRuns as addRunsTo } from '../support/booked-runs.js';

const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;
const node = (id: string): PlacementCandidate => ({
  id,
  kind: 'docker-node',
  region: 'us-west',
  zone: 'US-CAL-CISO',
  freeSlots: 1,
  capacity: 1,
});
const capacities = new Map([
  ['n1', 1],
  ['n2', 1],
]);

describe('a started run holds its slot until it is released', () => {
  let database: MigratedDatabase;
  let ledger: ReservationLedger;

  before(async () => {
    database = await createMigratedDatabase();
    ledger = createPostgresLedger(database.db);
  });
  after(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate capacity_buckets, run_reservations, grading_runs, raw_payloads cascade`);
  });

  const addRuns = (count: number) => addRunsTo(database.db, count, T0);

  /** The occupancy a plan at `nowMs` reads; it books its run hours later, out of the way, and commits. */
  async function occupancyAt(runId: string, nowMs: number): Promise<Occupancy> {
    let seen: Occupancy | undefined;
    await ledger.reserve({ runId, candidateIds: ['n1', 'n2'], fromMs: nowMs, capacities }, (occupancy) => {
      seen = occupancy;
      return { candidateId: 'n2', startMs: T0 + 10 * 60 * MIN, durationMs: MIN };
    });
    assert.ok(seen);
    return seen;
  }

  it('a run past its estimate keeps its slot busy for the next plan, held again while it runs, free once released', async () => {
    const [running, next] = await addRuns(2);
    assert.ok(running && next);
    await ledger.reserve({ runId: running, candidateIds: ['n1'], fromMs: T0, capacities }, () => ({
      candidateId: 'n1',
      startMs: T0,
      durationMs: 2 * MIN,
    }));
    await ledger.start(running, T0);

    // 3 min in, its 2-min booking has ended but the run has not: a plan now must not see n1 free.
    const nowMs = T0 + 3 * MIN;
    const occupancy = await occupancyAt(next, nowMs);
    assert.equal(fits(node('n1'), occupancy, nowMs, MIN), false, 'n1 is busy now');
    assert.equal(fits(node('n1'), occupancy, nowMs + STARTED_RUN_HOLD_MS, MIN), true, 'free after the hold');
    // A run due now (0-h slack) goes to the free node instead; with n1 alone it is placed late, the miss recorded.
    const request = {
      policy: 'spatiotemporal',
      homeCandidateId: 'n1',
      nowMs,
      deadlineMs: nowMs,
      estimatedDurationMs: MIN,
      forecasts: [],
    };
    const both = planWithCapacity({ ...request, candidates: [node('n1'), node('n2')] }, occupancy);
    assert.equal(both.candidateId, 'n2');
    assert.equal(both.startMs, nowMs);
    const alone = planWithCapacity({ ...request, candidates: [node('n1')] }, occupancy);
    assert.equal(alone.deadlineMissed, true);

    const [held] = await database.db.select().from(runReservations).where(eq(runReservations.runId, running));
    assert.equal(held?.startAt.getTime(), T0, 'still from its real start');
    assert.equal(held?.durationMs, nowMs + STARTED_RUN_HOLD_MS - T0);

    // Still running at a later plan: held again from that plan's instant.
    const laterMs = nowMs + 5 * MIN;
    assert.equal(fits(node('n1'), await occupancyAt(next, laterMs), laterMs, MIN), false);
    await ledger.release(running);
    assert.equal(fits(node('n1'), await occupancyAt(next, laterMs), laterMs, MIN), true);
  });

  it('a run not started yet is not held: its booking is where it is planned', async () => {
    const [planned, next] = await addRuns(2);
    assert.ok(planned && next);
    await ledger.reserve({ runId: planned, candidateIds: ['n1'], fromMs: T0, capacities }, () => ({
      candidateId: 'n1',
      startMs: T0,
      durationMs: 2 * MIN,
    }));
    const nowMs = T0 + 3 * MIN;
    assert.equal(fits(node('n1'), await occupancyAt(next, nowMs), nowMs, MIN), true);
    const [row] = await database.db.select().from(runReservations).where(eq(runReservations.runId, planned));
    assert.equal(row?.durationMs, 2 * MIN);
  });

  it('a run that spilled to another node holds that node, not the one it was booked on', async () => {
    const [spilled, next] = await addRuns(2);
    assert.ok(spilled && next);
    await ledger.reserve({ runId: spilled, candidateIds: ['n1'], fromMs: T0, capacities }, () => ({
      candidateId: 'n1',
      startMs: T0,
      durationMs: 4 * MIN,
    }));
    await ledger.start(spilled, T0 + MIN, 'n2');
    const nowMs = T0 + 2 * MIN;
    const occupancy = await occupancyAt(next, nowMs);
    assert.equal(fits(node('n1'), occupancy, nowMs, MIN), true, 'its booked node is free');
    assert.equal(fits(node('n2'), occupancy, nowMs, MIN), false, 'the node it runs on is not');
    const [row] = await database.db.select().from(runReservations).where(eq(runReservations.runId, spilled));
    assert.equal(row?.candidateId, 'n2');
    assert.equal(row?.startAt.getTime(), T0 + MIN);
  });
});
