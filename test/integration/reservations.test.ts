// Reservations over time in a real PostgreSQL, through the real placement activity: races for the last slot,
// expediting, and a burst that must never put more busy time in a bucket than the candidate's slots hold.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createPlacementActivities } from '../../src/activities/placement-activities.js';
import type { ZoneForecast } from '../../src/carbon/provider.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';
import { loadConfig } from '../../src/config/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { createPostgresLedger, releaseReservation, runsWaitingOn } from '../../src/db/reservations.js';
import { gradingRuns, rawPayloads, runReservations, runSlotClaims } from '../../src/db/schema.js';
import type { PlacementCandidate } from '../../src/scheduling/policies.js';
import { CAPACITY_BUCKET_MS, bucketSpan, busyIn } from '../../src/shared/capacity-buckets.js';
import type { ForecastOutcome, PlanningContext, RunPlan } from '../../src/shared/placement-types.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const HOUR = 3_600_000;
const MIN = 60_000;

describe('reservations over time', () => {
  let database: MigratedDatabase;
  let other: DatabaseHandle;
  let first: ReturnType<typeof createPlacementActivities>;
  let second: ReturnType<typeof createPlacementActivities>;

  before(async () => {
    database = await createMigratedDatabase();
    // A second pool: the racing activities run on separate connections, as two workers would.
    other = connectDatabase(database.url, { maxConnections: 4 });
    const config = loadConfig({ DATABASE_URL: database.url });
    const regions = await loadRegionsConfig();
    first = createPlacementActivities(database.db, config, regions);
    second = createPlacementActivities(other.db, config, regions);
  });

  after(async () => {
    await other?.close();
    await database?.drop();
  });

  beforeEach(async () => {
    await database.db.execute(sql`truncate capacity_buckets, run_reservations, grading_runs, raw_payloads cascade`);
  });

  async function addRuns(count: number): Promise<string[]> {
    const rows = Array.from({ length: count }, () => randomUUID());
    await database.db
      .insert(rawPayloads)
      .values(rows.map((sha256) => ({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' })));
    const runs = await database.db
      .insert(gradingRuns)
      .values(
        rows.map((sha256) => ({
          workflowId: `wf-${sha256}`,
          payloadSha256: sha256,
          trigger: 'ingest' as const,
          receivedAt: new Date(),
        })),
      )
      .returning({ id: gradingRuns.id });
    return runs.map((run) => run.id);
  }

  /** Hourly forecast from the current hour: `values[i]` holds in hour i. */
  function forecastOf(zone: string, values: number[]): ZoneForecast {
    const startMs = Math.floor(Date.now() / HOUR) * HOUR;
    return {
      zone,
      basis: 'average',
      source: 'test',
      issuedAtMs: startMs,
      startMs,
      stepMs: HOUR,
      valuesGCo2PerKwh: values,
    };
  }
  const outcome = (forecasts: ZoneForecast[]): ForecastOutcome => ({
    provider: 'test',
    forecasts,
    missing: [],
    attempts: [],
    reason: null,
  });
  const node = (id: string, zone: string, capacity: number): PlacementCandidate => ({
    id,
    kind: 'docker-node',
    region: 'us-west',
    zone,
    freeSlots: capacity,
    capacity,
  });
  function context(overrides: Partial<PlanningContext>): PlanningContext {
    return {
      policy: 'temporal',
      candidates: [node('n1', 'ZA', 1)],
      homeCandidateId: 'n1',
      deadlineMs: Date.now() + 6 * HOUR,
      deadlineRule: 'max-delay',
      estimatedDurationMs: 5 * MIN,
      providers: ['test'],
      forecastRequest: { zones: ['ZA'], fromMs: 0, toMs: 0, runDurationMs: 5 * MIN, homeZone: 'ZA' },
      refreshMs: HOUR,
      ...overrides,
    };
  }
  const hourStart = (hours: number) => Math.floor(Date.now() / HOUR) * HOUR + hours * HOUR;

  /** Busy ms per (candidate, bucket), recomputed from the reservation rows' start and duration themselves. */
  async function bucketLoad(): Promise<Map<string, number>> {
    const rows = await database.db.select().from(runReservations);
    const load = new Map<string, number>();
    for (const row of rows) {
      for (let bucket = row.firstBucket; bucket <= row.lastBucket; bucket += 1) {
        const key = `${row.candidateId}@${bucket}`;
        const busyMs = busyIn(bucket, row.startAt.getTime(), row.durationMs);
        assert.equal(row.bucketBusyMs[bucket - row.firstBucket], busyMs, `${key}: the row's busy time`);
        load.set(key, (load.get(key) ?? 0) + busyMs);
      }
    }
    return load;
  }

  it('two 1-min runs share a 1-slot node within a bucket: busy time, not whole buckets, is booked', async () => {
    const forecast = outcome([forecastOf('ZA', [300, 300])]);
    const [a, b] = await addRuns(2);
    assert.ok(a && b);
    const now = context({ policy: 'immediate-home', deadlineMs: Date.now() + 5 * MIN, estimatedDurationMs: MIN });
    await first.choosePlacement({ runId: a, context: now, forecast });
    await first.choosePlacement({ runId: b, context: now, forecast });
    const missed = await database.db.select().from(gradingRuns).where(eq(gradingRuns.deadlineMissed, true));
    assert.equal(missed.length, 0, 'neither waits past its deadline');
    const load = await bucketLoad();
    assert.equal(
      [...load.values()].reduce((sum, ms) => sum + ms, 0),
      2 * MIN,
    );
  });

  it('a run whose buckets have room but which would overlap a booked one on a 1-slot node starts when it ends', async () => {
    const forecast = outcome([forecastOf('ZA', [300, 300]), forecastOf('ZB', [300, 300])]);
    const [a, b, c] = await addRuns(3);
    assert.ok(a && b && c);
    const soon = context({ policy: 'immediate-home', deadlineMs: Date.now() + 30 * MIN, estimatedDurationMs: 2 * MIN });
    await first.choosePlacement({ runId: a, context: soon, forecast });
    const plan = await first.choosePlacement({ runId: b, context: soon, forecast });
    const rows = await database.db.select().from(runReservations);
    const startOf = (runId: string) => rows.find((row) => row.runId === runId)?.startAt.getTime() ?? Number.NaN;
    // The second waits in the slot queue (it claims now) while its booking holds the instant the first ends.
    assert.ok(plan.startMs <= Date.now());
    assert.equal(startOf(b), startOf(a) + 2 * MIN, 'booked back to back, not overlapping at an instant');
    // A policy that may move takes another node free at once instead.
    const two = [node('n1', 'ZA', 1), node('n2', 'ZB', 1)];
    const moved = await first.choosePlacement({
      runId: c,
      context: context({ ...soon, policy: 'spatial', candidates: two }),
      forecast,
    });
    assert.equal(moved.nodeName, 'n2');
  });

  it('two plans racing for the last slot at the green hour: one gets it, the other the next best', async () => {
    // Hour 3 is the greenest; in its 12 buckets 11 are already taken by other runs.
    const values = [400, 400, 300, 100, 200, 400, 400, 400];
    const filler = await addRuns(11);
    const forecast = outcome([forecastOf('ZA', values)]);
    for (const runId of filler) await first.choosePlacement({ runId, context: context({}), forecast });
    const [a, b] = await addRuns(2);
    assert.ok(a && b);
    const [planA, planB] = await Promise.all([
      first.choosePlacement({ runId: a, context: context({}), forecast }),
      second.choosePlacement({ runId: b, context: context({}), forecast }),
    ]);
    const intensities = [planA.expectedIntensityGCo2PerKwh, planB.expectedIntensityGCo2PerKwh].sort();
    assert.deepEqual(intensities, [100, 200], 'one gets the last green slot, the other the next best hour');
    const starts = [planA.startMs, planB.startMs].sort((x, y) => x - y);
    assert.ok(starts[0]! >= hourStart(3) && starts[0]! < hourStart(4));
    assert.equal(starts[1], hourStart(4));
    for (const [key, busyMs] of await bucketLoad()) {
      assert.ok(busyMs <= CAPACITY_BUCKET_MS, `${key} holds ${busyMs} ms of runs on a 1-slot node`);
    }
  });

  it('an expedited run gives its future reservation back at once', async () => {
    const values = [400, 400, 100, 400, 400, 400, 400];
    const forecast = outcome([forecastOf('ZA', values)]);
    const planningContext = context({ estimatedDurationMs: HOUR });
    const [waiting, later] = await addRuns(2);
    assert.ok(waiting && later);
    const planned = await first.choosePlacement({ runId: waiting, context: planningContext, forecast });
    assert.equal(planned.startMs, hourStart(2));

    const now = Date.now();
    const expedited = context({ deadlineMs: now, deadlineRule: 'expedited', estimatedDurationMs: HOUR });
    const rushed = await first.choosePlacement({ runId: waiting, context: expedited, forecast });
    assert.ok(rushed.startMs <= Date.now() && rushed.startMs >= now);
    const [row] = await database.db.select().from(runReservations).where(eq(runReservations.runId, waiting));
    assert.equal(row?.firstBucket, bucketSpan(rushed.startMs, HOUR).first, 'the reservation moved to now');
    // The green hour it held is free again: the next run takes it whole.
    const next = await first.choosePlacement({ runId: later, context: planningContext, forecast });
    assert.equal(next.startMs, hourStart(2));
  });

  it('a plan with no room before its deadline starts at the earliest slot after it, and the miss is on the run', async () => {
    const forecast = outcome([forecastOf('ZA', [300, 300, 300])]);
    const runs = await addRuns(3);
    const tight = context({
      policy: 'immediate-home',
      // Just short of two runs: the third could start the instant the second ends, only after the deadline.
      deadlineMs: Date.now() + 29 * MIN,
      estimatedDurationMs: 15 * MIN,
    });
    const plans: RunPlan[] = [];
    for (const runId of runs) plans.push(await first.choosePlacement({ runId, context: tight, forecast }));
    const missed = await database.db
      .select({ id: gradingRuns.id, missed: gradingRuns.deadlineMissed })
      .from(gradingRuns)
      .where(eq(gradingRuns.deadlineMissed, true));
    assert.deepEqual(
      missed.map((row) => row.id),
      [runs[2]],
      'the first starts now, the second after it within 30 min, the third only after the deadline',
    );
    // immediate-home wants now: the runs wait in the slot queue (start now) while their bookings hold the room.
    const now = Date.now();
    assert.ok(plans.every((plan) => plan.startMs <= now));
    const booked = await database.db.select().from(runReservations);
    const startOf = (runId: string | undefined) =>
      booked.find((row) => row.runId === runId)?.startAt.getTime() ?? Number.NaN;
    const starts = runs.map(startOf);
    assert.ok(starts[2]! > tight.deadlineMs);
    assert.ok(starts.every((start, i) => i === 0 || start >= starts[i - 1]! + 15 * MIN - CAPACITY_BUCKET_MS));
  });

  it('a 500-run burst never puts more busy time in a bucket than a node holds, and every deadline holds', async () => {
    // Three nodes of 3 slots: 45 min of runs per 5-min bucket, 48 h in the 6 h slack, for 500 runs of 2–5 min.
    const candidates = [node('n1', 'ZA', 3), node('n2', 'ZB', 3), node('n3', 'ZC', 3)];
    const forecast = outcome([
      forecastOf('ZA', [300, 250, 100, 150, 300, 300, 300, 300]),
      forecastOf('ZB', [200, 200, 200, 120, 90, 200, 200, 200]),
      forecastOf('ZC', [350, 80, 350, 350, 350, 350, 350, 350]),
    ]);
    const runs = await addRuns(500);
    const deadlineMs = Date.now() + 6 * HOUR;
    const policies = ['spatiotemporal', 'temporal', 'immediate-home', 'spatial'];
    const planOne = (runId: string, index: number) =>
      (index % 2 === 0 ? first : second).choosePlacement({
        runId,
        context: context({
          policy: policies[index % policies.length]!,
          candidates,
          homeCandidateId: candidates[index % 3]!.id,
          deadlineMs,
          estimatedDurationMs: (2 + (index % 4)) * MIN,
        }),
        forecast,
      });
    // Eight planners at a time on two pools; a tenth of the runs plan again (a re-plan moves the reservation),
    // and a twentieth leave (released), as waking and finishing runs do meanwhile.
    const queue = runs.map((runId, index) => ({ runId, index }));
    const worker = async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        await planOne(item.runId, item.index);
        if (item.index % 10 === 0) await planOne(item.runId, item.index + 1);
        if (item.index % 20 === 5) await releaseReservation(database.db, item.runId);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    const load = await bucketLoad();
    const peak = Math.max(...load.values());
    assert.ok(peak <= 3 * CAPACITY_BUCKET_MS, `a bucket holds ${peak} ms of runs on a 3-slot node`);
    const counted = await database.db.execute<{ candidate_id: string; bucket: string; busy_ms: string }>(
      sql`select candidate_id, bucket, busy_ms from capacity_buckets where reserved > 0`,
    );
    const ledger = new Map(counted.rows.map((row) => [`${row.candidate_id}@${row.bucket}`, Number(row.busy_ms)]));
    assert.deepEqual(ledger, load, "the buckets' busy time matches the reservations");
    const reserved = await database.db.select().from(runReservations);
    assert.equal(reserved.length, 500 - 25);
    assert.ok(reserved.every((row) => row.startAt.getTime() <= deadlineMs));
    const [misses] = await database.db
      .select({ count: sql<number>`count(*)::int` })
      .from(gradingRuns)
      .where(eq(gradingRuns.deadlineMissed, true));
    assert.equal(misses?.count, 0);
  });

  it("a booking past the capacity fails, books nothing and keeps the run's earlier reservation", async () => {
    const ledger = createPostgresLedger(database.db);
    const [holder, mover] = await addRuns(2);
    assert.ok(holder && mover);
    const at = hourStart(2);
    const slot = (startMs: number) => ({ candidateId: 'n1', startMs, durationMs: 10 * MIN });
    const capacities = new Map([['n1', 1]]);
    const request = (runId: string) => ({ runId, candidateIds: ['n1'], fromMs: Date.now(), capacities });
    await ledger.reserve(request(holder), () => slot(at));
    await ledger.reserve(request(mover), () => slot(at + HOUR));
    const before = await database.db.execute(sql`select * from capacity_buckets order by bucket`);

    // A planner that ignored the occupancy it was handed: the guard in the booking statement refuses it.
    await assert.rejects(
      ledger.reserve(request(mover), () => slot(at + 5 * MIN)),
      (error: Error & { cause?: { message?: string } }) =>
        /capacity of n1 exceeded: bucket \d+ would hold 600000 ms of runs, capacity 300000 ms/.test(
          `${error.message} ${error.cause?.message ?? ''}`,
        ),
    );
    const after = await database.db.execute(sql`select * from capacity_buckets order by bucket`);
    assert.deepEqual(after.rows, before.rows, 'the buckets are as they were');
    const [kept] = await database.db.select().from(runReservations).where(eq(runReservations.runId, mover));
    assert.equal(kept?.startAt.getTime(), at + HOUR, 'the mover keeps its earlier slot');
    // Without a capacity (an expedited run), the same slot is booked over it.
    await ledger.reserve({ ...request(mover), capacities: new Map() }, () => slot(at + 5 * MIN));
    const load = await bucketLoad();
    assert.equal(load.get(`n1@${bucketSpan(at + 5 * MIN, 10 * MIN).first}`), 2 * CAPACITY_BUCKET_MS);
  });

  it('a release wakes the runs planned later on its node, not the runs already in its slot queue', async () => {
    const ledger = createPostgresLedger(database.db);
    const [later, queued] = await addRuns(2);
    assert.ok(later && queued);
    const capacities = new Map([['n1', 2]]);
    for (const [runId, hours] of [
      [later, 2],
      [queued, 0],
    ] as const) {
      await ledger.reserve({ runId, candidateIds: ['n1'], fromMs: Date.now(), capacities }, () => ({
        candidateId: 'n1',
        startMs: hourStart(hours),
        durationMs: 10 * MIN,
      }));
    }
    // The queued run waits in the slot queue: the queue wakes it, first in line first, when a slot frees.
    await database.db.insert(runSlotClaims).values({ runId: queued, lane: 'live', queueTag: 1, region: 'us-west' });
    const workflowOf = async (runId: string) =>
      (await database.db.select().from(gradingRuns).where(eq(gradingRuns.id, runId)))[0]?.workflowId;
    assert.deepEqual(await runsWaitingOn(database.db, 'n1', 4), [await workflowOf(later)]);
    // Once its claim is released (it ran elsewhere, or its node failed it), a planned run is woken again.
    await database.db.update(runSlotClaims).set({ releasedAt: new Date() }).where(eq(runSlotClaims.runId, queued));
    assert.deepEqual(await runsWaitingOn(database.db, 'n1', 4), [await workflowOf(queued), await workflowOf(later)]);
  });
});
