import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConstrainedOracleInput, constrainedOptimum } from '../../bench/constrained-oracle.js';
import { optimumByFullLp } from '../../bench/full-lp-oracle.js';
import { UncoveredRunError } from '../../bench/oracle-slots.js';
import { createRng, type Rng } from '../../bench/rng.js';
import { HOUR_MS, type IntensityGrid } from '../../src/carbon/intensity-series.js';
import { planPlacement } from '../../src/scheduling/policies.js';
import { bestWholeRunSchedule, fewestMissesByLp, greedySchedule } from './oracle-baselines.js';

const T0 = Date.UTC(2023, 0, 2);
const MIN_MS = 60_000;
const grid = (values: number[]): IntensityGrid => ({ startMs: T0, stepMs: HOUR_MS, valuesGCo2PerKwh: values });
const near = (actual: number, expected: number, label: string) =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)),
    `${label}: ${actual} vs ${expected}`,
  );
const twoRegions = (a: number[], b: number[]) => ({
  candidates: [
    { id: 'A', zone: 'ZA' },
    { id: 'B', zone: 'ZB' },
  ],
  grids: new Map([
    ['ZA', grid(a)],
    ['ZB', grid(b)],
  ]),
});

describe('constrained oracle', () => {
  test('a hand-solved 3-run, 2-region example where busy time binds, not starts', async () => {
    // One run at once in each region; A emits 100 g/kWh in hour 0, B 200. Each run has 1 kWh and no slack:
    //   r1 starts 0:00 for 20 min, r2 0:20 for 30 min, r3 0:40 for 20 min.
    // All three fit A's hour as starts (none overlaps r1), but A's busy time would be 20 + 30 + 20 = 70 min > 60.
    // Moving a run to B saves 100 g per run; per minute of A's hour freed that is 5 g for r1 and r3, 3.3 g for r2,
    // so the LP (a fractional knapsack) keeps r1 and r3 on A (40 min) and fills the last 20 min with 2/3 of r2:
    //   100 + 100 + (2/3 · 100 + 1/3 · 200) = 333.33 g, no misses.
    // No whole-run schedule reaches it: the best puts r2 on B (400 g). The LP is a bound, not a schedule.
    const input: ConstrainedOracleInput = {
      ...twoRegions([100, 100], [200, 200]),
      runs: [
        { id: 1, earliestStartMs: T0, latestStartMs: T0, durationMs: 20 * MIN_MS, energyKwh: 1 },
        {
          id: 2,
          earliestStartMs: T0 + 20 * MIN_MS,
          latestStartMs: T0 + 20 * MIN_MS,
          durationMs: 30 * MIN_MS,
          energyKwh: 1,
        },
        {
          id: 3,
          earliestStartMs: T0 + 40 * MIN_MS,
          latestStartMs: T0 + 40 * MIN_MS,
          durationMs: 20 * MIN_MS,
          energyKwh: 1,
        },
      ],
      capacity: () => 1,
    };
    const optimum = await constrainedOptimum(input);
    near(optimum.totalGCo2, 1000 / 3, 'total');
    assert.equal(optimum.misses, 0);
    assert.equal(optimum.fractionalRuns, 1);
    const shares = optimum.assignments.map((a) =>
      a.shares.map((s) => [s.candidateId, (s.startMs - T0) / MIN_MS, Math.round(s.share * 1000) / 1000]),
    );
    assert.deepEqual(shares, [
      [['A', 0, 1]],
      [
        ['A', 20, 0.667],
        ['B', 20, 0.333],
      ],
      [['A', 40, 1]],
    ]);
    assert.equal(optimum.lpComponents, 1);
    const full = await optimumByFullLp(input);
    near(full.totalGCo2, 1000 / 3, 'full LP');
    near(bestWholeRunSchedule(input).totalGCo2, 400, 'best whole-run schedule');
    // With 10-minute buckets r2 and r3 both need A in 0:40–0:50: one of them goes to B, the whole-run optimum.
    near((await constrainedOptimum({ ...input, bucketMs: 10 * MIN_MS })).totalGCo2, 400, '10-minute buckets');
    // Two at once in A: all three fit (70 min of 120), every run on A.
    near((await constrainedOptimum({ ...input, capacity: (id) => (id === 'A' ? 2 : 1) })).totalGCo2, 300, 'room');
  });

  test('a hand-solved example where one miss is unavoidable', async () => {
    // One run at once in each region; A emits 100 g/kWh, B 300, in every hour. Three hour-long runs arrive at 0:00
    // with no slack: 3 run-hours for 2 run-hours of room, so one run must start late whatever the schedule.
    // Energies 1, 2 and 4 kWh. A run on A or started late (A is the cleanest then too) emits 100 g/kWh, on B 300:
    // the cheapest choice puts the smallest run (r1) on B: 100 · (1 + 2 + 4) + 200 · 1 = 900 g with 1 miss.
    const input: ConstrainedOracleInput = {
      ...twoRegions([100, 100, 100], [300, 300, 300]),
      runs: [1, 2, 4].map((energyKwh, i) => ({
        id: i + 1,
        earliestStartMs: T0,
        latestStartMs: T0,
        durationMs: HOUR_MS,
        energyKwh,
      })),
      capacity: () => 1,
    };
    const optimum = await constrainedOptimum(input);
    near(optimum.misses, 1, 'misses');
    near(optimum.totalGCo2, 900, 'total');
    assert.deepEqual(
      optimum.assignments[0]!.shares.map((s) => [s.candidateId, s.share]),
      [['B', 1]],
    );
    const full = await optimumByFullLp(input);
    near(full.misses, 1, 'full LP misses');
    near(full.totalGCo2, 900, 'full LP total');
    // With an hour of slack every run fits (A holds two hours' worth of runs by 1:00, B one).
    const slack = await constrainedOptimum({
      ...input,
      runs: input.runs.map((run) => ({ ...run, latestStartMs: T0 + HOUR_MS })),
    });
    assert.equal(slack.misses, 0);
  });

  test('a run with no start inside the trace and a capacity below zero are refused with a clear error', async () => {
    const input = { ...twoRegions([100], [200]), capacity: () => 1 };
    const outside = {
      id: 7,
      earliestStartMs: T0 + 5 * HOUR_MS,
      latestStartMs: T0 + 6 * HOUR_MS,
      durationMs: MIN_MS,
      energyKwh: 1,
    };
    await assert.rejects(
      constrainedOptimum({ ...input, runs: [outside] }),
      (error: unknown) => error instanceof UncoveredRunError && /run 7: no start/.test(error.message),
    );
    const inside = { ...outside, earliestStartMs: T0, latestStartMs: T0 };
    await assert.rejects(
      constrainedOptimum({ ...input, runs: [inside], capacity: () => -1 }),
      /≥ 0 or Infinity, got -1/,
    );
  });

  test('equals one LP over every column (no pricing), misses first, on 12 random 150-run instances', async () => {
    const rng = createRng(19);
    let priced = 0;
    let missing = 0;
    for (let trial = 0; trial < 12; trial += 1) {
      const input = randomInstance(rng, { runs: 150, candidates: 3, hours: 40, maxSlackHours: 8, maxCapacity: 2 });
      const optimum = await constrainedOptimum(input);
      const full = await optimumByFullLp(input);
      near(optimum.totalGCo2, full.totalGCo2, `trial ${trial} total`);
      near(optimum.misses, full.misses, `trial ${trial} misses`);
      // The penalty puts misses first: no schedule of the relaxation misses less.
      near(optimum.misses, await fewestMissesByLp(input), `trial ${trial} fewest misses`);
      if (optimum.rounds > 1) priced += 1;
      if (optimum.misses > 0) missing += 1;
    }
    // The instances must exercise the pricing loop and the miss columns, not only first-round answers.
    assert.ok(priced >= 6, `instances that needed more than one pricing round (${priced})`);
    assert.ok(missing >= 3 && missing < 12, `a mix of instances with and without misses (${missing})`);
  });

  test('is never worse than whole-run schedules (exhaustive on 4 runs, greedy on 40) and keeps busy time within capacity', async () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 30; trial += 1) {
      const tiny = randomInstance(rng, { runs: 4, candidates: 2, hours: 8, maxSlackHours: 2, maxCapacity: 1 });
      assertNoWorse(await constrainedOptimum(tiny), bestWholeRunSchedule(tiny), `tiny ${trial}`);
    }
    for (let trial = 0; trial < 30; trial += 1) {
      const input = randomInstance(rng, { runs: 40, candidates: 3, hours: 30, maxSlackHours: 6, maxCapacity: 2 });
      const optimum = await constrainedOptimum(input);
      for (let order = 0; order < 4; order += 1) assertNoWorse(optimum, greedySchedule(input, rng), `trial ${trial}`);
      const busyMs = new Map<string, number>();
      optimum.assignments.forEach((a, index) => {
        const run = input.runs[index]!;
        near(
          a.shares.reduce((sum, s) => sum + s.share, a.missedShare),
          1,
          `trial ${trial} run ${run.id} shares`,
        );
        for (const s of a.shares) {
          assert.ok(s.startMs >= run.earliestStartMs && s.startMs <= run.latestStartMs);
          for (let at = s.startMs, end = s.startMs + run.durationMs; at < end;) {
            const until = Math.min(end, (Math.floor(at / HOUR_MS) + 1) * HOUR_MS);
            const key = `${s.candidateId}@${Math.floor(at / HOUR_MS)}`;
            busyMs.set(key, (busyMs.get(key) ?? 0) + (until - at) * s.share);
            at = until;
          }
        }
      });
      for (const [key, ms] of busyMs) {
        const [id, hour] = key.split('@');
        assert.ok(ms <= input.capacity(id!, Number(hour) * HOUR_MS) * HOUR_MS * (1 + 1e-6) + 1e-3, `${key}: ${ms} ms`);
      }
    }
  });

  test('with unlimited capacity it equals the unconstrained oracle (spatiotemporal on the true future)', async () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 10; trial += 1) {
      const input = randomInstance(rng, { runs: 50, candidates: 4, hours: 48, maxSlackHours: 24, maxCapacity: 0 });
      const unlimited = { ...input, capacity: () => Infinity };
      const optimum = await constrainedOptimum(unlimited);
      const forecasts = input.candidates.map(({ zone }) => {
        const g = input.grids.get(zone)!;
        return {
          zone,
          basis: 'average' as const,
          source: 'truth',
          issuedAtMs: T0,
          ...g,
          valuesGCo2PerKwh: [...Array.from(g.valuesGCo2PerKwh)],
        };
      });
      let expected = 0;
      for (const run of input.runs) {
        const plan = planPlacement({
          policy: 'spatiotemporal',
          candidates: input.candidates.map((c) => ({ ...c, kind: 'k8s-region', region: c.id, freeSlots: 1 })),
          homeCandidateId: input.candidates[0]!.id,
          nowMs: run.earliestStartMs,
          deadlineMs: run.latestStartMs,
          estimatedDurationMs: run.durationMs,
          forecasts,
        });
        expected += run.energyKwh * plan.expectedIntensityGCo2PerKwh!;
      }
      assert.ok(
        Math.abs(optimum.totalGCo2 - expected) <= 1e-9 * expected,
        `trial ${trial}: ${optimum.totalGCo2} vs ${expected}`,
      );
      assert.equal(optimum.lpComponents, 0);
      assert.equal(optimum.misses, 0);
      // The same instance under tight capacity costs at least as much, a miss counting above any emissions.
      const tight = await constrainedOptimum({ ...input, capacity: () => 1 });
      assert.ok(tight.totalGCo2 + tight.misses * 1e9 >= optimum.totalGCo2 * (1 - 1e-12));
    }
  });
});

/** The LP relaxation misses no more than a whole-run schedule, and with as many misses emits no more. */
function assertNoWorse(
  optimum: { totalGCo2: number; misses: number },
  schedule: { totalGCo2: number; misses: number },
  label: string,
): void {
  assert.ok(optimum.misses <= schedule.misses + 1e-6, `${label}: misses ${optimum.misses} vs ${schedule.misses}`);
  if (Math.abs(optimum.misses - schedule.misses) <= 1e-6) {
    assert.ok(
      optimum.totalGCo2 <= schedule.totalGCo2 * (1 + 1e-9),
      `${label}: ${optimum.totalGCo2} vs ${schedule.totalGCo2}`,
    );
  }
}

interface Shape {
  runs: number;
  candidates: number;
  hours: number;
  maxSlackHours: number;
  /** Each (candidate, hour) holds 0..maxCapacity runs at once. */
  maxCapacity: number;
}

function randomInstance(rng: Rng, shape: Shape): ConstrainedOracleInput {
  const candidates = Array.from({ length: shape.candidates }, (_, i) => ({ id: `c${i}`, zone: `Z${i}` }));
  const grids = new Map(
    candidates.map(({ zone }) => [
      zone,
      grid(Array.from({ length: shape.hours }, () => Math.round(rng.uniform(50, 500)))),
    ]),
  );
  const capacities = new Map<string, number>();
  for (const { id } of candidates) {
    for (let hour = 0; hour < shape.hours; hour += 1) {
      capacities.set(`${id}@${T0 / HOUR_MS + hour}`, Math.floor(rng.uniform(0, shape.maxCapacity + 1)));
    }
  }
  const lastArrivalMs = (shape.hours - shape.maxSlackHours - 1) * HOUR_MS;
  const runs = Array.from({ length: shape.runs }, (_, id) => {
    const earliestStartMs = T0 + Math.round(rng.uniform(0, lastArrivalMs));
    return {
      id,
      earliestStartMs,
      latestStartMs: earliestStartMs + Math.round(rng.uniform(0, shape.maxSlackHours * HOUR_MS)),
      durationMs: Math.round(rng.uniform(1, 40) * MIN_MS),
      energyKwh: rng.uniform(0.5, 2),
    };
  });
  return {
    runs,
    candidates,
    grids,
    capacity: (id, hourStartMs) => capacities.get(`${id}@${hourStartMs / HOUR_MS}`) ?? 0,
  };
}
