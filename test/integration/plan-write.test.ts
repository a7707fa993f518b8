// choosePlacement against a real PostgreSQL, counting what it sends: a plan is one round trip on a quiet, unchanged
// book (planned on the process's copy, then locking, booking, run row and commit together) and two otherwise (the
// locking read, then the rest), and the run row's plan commits or rolls back with its booking.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { createPlacementActivities } from '../../src/activities/placement-activities.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';
import { loadConfig } from '../../src/config/config.js';
import type { Database } from '../../src/db/client.js';
import { reserveAndRecord } from '../../src/db/reservations.js';
import * as schema from '../../src/db/schema.js';
import type { ForecastOutcome, PlanningContext } from '../../src/shared/placement-types.js';
import { createCountingPool, type CountingPool } from '../support/counting-pool.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const HOUR = 3_600_000;
const { gradingRuns, rawPayloads, runReservations } = schema;

describe('writing a plan', () => {
  let database: MigratedDatabase;
  let pool: pg.Pool;
  let db: Database;
  let placement: ReturnType<typeof createPlacementActivities>;
  let counting: CountingPool;

  before(async () => {
    database = await createMigratedDatabase();
    // One connection: a transaction left open by a failed plan would break every later query on it.
    counting = createCountingPool(database.url);
    pool = counting.pool;
    db = drizzle(pool, { schema });
    const config = loadConfig({ DATABASE_URL: database.url });
    placement = createPlacementActivities(db, config, await loadRegionsConfig());
  });

  after(async () => {
    await pool?.end();
    await database?.drop();
  });

  beforeEach(async () => {
    await db.execute(sql`alter table grading_runs drop constraint if exists test_no_immediate_home_plans`);
    await db.execute(sql`truncate capacity_buckets, run_reservations, grading_runs, raw_payloads cascade`);
  });

  async function addRun(): Promise<string> {
    const sha256 = randomUUID();
    await db.insert(rawPayloads).values({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' });
    const [run] = await db
      .insert(gradingRuns)
      .values({ workflowId: `wf-${sha256}`, payloadSha256: sha256, trigger: 'ingest', receivedAt: new Date() })
      .returning({ id: gradingRuns.id });
    assert.ok(run);
    return run.id;
  }

  // Greenest in hour 2 of one two-slot node; temporal waits for it, immediate-home starts now.
  const hourZero = Math.floor(Date.now() / HOUR) * HOUR;
  const forecast: ForecastOutcome = {
    provider: 'test',
    forecasts: [
      {
        zone: 'ZA',
        basis: 'average',
        source: 'test',
        issuedAtMs: hourZero,
        startMs: hourZero,
        stepMs: HOUR,
        valuesGCo2PerKwh: [300, 300, 90, 300, 300, 300, 300, 300],
      },
    ],
    missing: [],
    attempts: [],
    reason: null,
  };
  const planning = (policy: string): PlanningContext => ({
    policy,
    candidates: [{ id: 'n1', kind: 'docker-node', region: 'us-west', zone: 'ZA', freeSlots: 2, capacity: 2 }],
    homeCandidateId: 'n1',
    deadlineMs: Date.now() + 6 * HOUR,
    deadlineRule: 'max-delay',
    estimatedDurationMs: 10 * 60_000,
    providers: ['test'],
    forecastRequest: { zones: ['ZA'], fromMs: 0, toMs: 0, runDurationMs: 10 * 60_000, homeZone: 'ZA' },
    refreshMs: HOUR,
  });
  const plan = (runId: string, policy: string) =>
    placement.choosePlacement({ runId, context: planning(policy), forecast });

  /** The run row's plan next to its booking, and the buckets in use. */
  async function stored(runId: string) {
    const [row] = await db.select().from(gradingRuns).where(eq(gradingRuns.id, runId));
    const [booking] = await db.select().from(runReservations).where(eq(runReservations.runId, runId));
    const buckets = await db.execute(sql`select candidate_id, bucket, reserved from capacity_buckets order by 1, 2`);
    return { policy: row?.policy, plannedStartMs: row?.plannedStartAt?.getTime(), booking, buckets: buckets.rows };
  }

  it('a plan takes one round trip on a quiet, unchanged book, two to read it or to re-plan, and the run row shows what is booked', async () => {
    const [runId, secondRunId, thirdRunId] = [await addRun(), await addRun(), await addRun()];
    const steps = [
      { runId, policy: 'temporal', trips: 2, why: 'no copy of the book yet: the locking read, then the booking' },
      { runId: secondRunId, policy: 'temporal', trips: 2, why: 'a copy, not yet seen quiet: its read brings nothing' },
      { runId: thirdRunId, policy: 'immediate-home', trips: 1, why: 'a quiet book: planned on the copy, booked' },
      { runId, policy: 'immediate-home', trips: 2, why: 'a re-plan frees its earlier booking: read, then book' },
    ];
    for (const step of steps) {
      counting.reset();
      const chosen = await plan(step.runId, step.policy);
      assert.equal(counting.sent.length, step.trips, `${step.policy} of ${step.runId}: ${step.why}`);
      const { policy: recorded, plannedStartMs, booking } = await stored(step.runId);
      assert.equal(recorded, step.policy);
      assert.equal(plannedStartMs, booking?.startAt.getTime(), 'the run row plans the start that is booked');
      if (step.policy === 'temporal') assert.equal(chosen.startMs, hourZero + 2 * HOUR);
    }
  });

  it('a run-row write that fails books nothing and keeps the earlier plan and reservation', async () => {
    const runId = await addRun();
    await plan(runId, 'temporal');
    const earlier = await stored(runId);
    // The re-plan's booking is fine; only writing it on the run row fails, after the booking in the same query.
    await db.execute(sql`alter table grading_runs
      add constraint test_no_immediate_home_plans check (policy is distinct from 'immediate-home')`);
    await assert.rejects(plan(runId, 'immediate-home'), /test_no_immediate_home_plans/);
    assert.deepEqual(await stored(runId), earlier, 'booking, buckets and run row as before the failed re-plan');

    // The pool's one connection came back usable (no aborted transaction left on it), and its locks are gone.
    await db.execute(sql`alter table grading_runs drop constraint test_no_immediate_home_plans`);
    await plan(runId, 'immediate-home');
    const moved = await stored(runId);
    assert.equal(moved.policy, 'immediate-home');
    assert.ok(moved.booking && moved.booking.startAt.getTime() < hourZero + 2 * HOUR);
  });

  it('a plan made on the copy whose run-row write fails books nothing either', async () => {
    const [first, quiet, second] = [await addRun(), await addRun(), await addRun()];
    // The truncate before the test changed the book; a plan whose read then brings nothing new finds it quiet.
    await plan(first, 'temporal');
    await plan(quiet, 'temporal');
    const before = await stored(first);
    await db.execute(sql`alter table grading_runs
      add constraint test_no_immediate_home_plans check (policy is distinct from 'immediate-home')`);
    counting.reset();
    await assert.rejects(plan(second, 'immediate-home'), /test_no_immediate_home_plans/);
    assert.equal(counting.sent.length, 2, 'the one round trip on the copy, then the rollback');
    const after = await stored(second);
    assert.equal(after.booking, undefined, 'nothing booked for the run whose plan failed');
    assert.deepEqual(after.buckets, before.buckets, 'the buckets as the first plan left them');

    await db.execute(sql`alter table grading_runs drop constraint test_no_immediate_home_plans`);
    await plan(second, 'immediate-home');
    assert.equal((await stored(second)).policy, 'immediate-home', 'the connection and the book are usable after it');
  });

  it('a planner that throws books nothing and leaves the connection usable', async () => {
    const runId = await addRun();
    await plan(runId, 'temporal');
    const earlier = await stored(runId);
    await assert.rejects(
      reserveAndRecord(db, { runId, candidateIds: ['n1'], fromMs: Date.now() }, () => {
        throw new Error('planner failed');
      }),
      /planner failed/,
    );
    assert.deepEqual(await stored(runId), earlier, "the run's earlier reservation, freed inside, is back");
  });
});
