import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ConstrainedOptimum,
  type ConstrainedOracleInput,
  InfeasibleScheduleError,
  constrainedOptimum,
} from '../../bench/constrained-oracle.js';
import { createRng, type Rng } from '../../bench/rng.js';
import { HOUR_MS, type IntensityGrid } from '../../src/carbon/intensity-series.js';
import { planPlacement } from '../../src/scheduling/policies.js';
import { optimumByFullLp } from '../../bench/full-lp-oracle.js';
import { optimumByEnumeration, greedySchedule } from './oracle-baselines.js';

const T0 = Date.UTC(2023, 0, 2);
const MIN_MS = 60_000;
const grid = (values: number[]): IntensityGrid => ({ startMs: T0, stepMs: HOUR_MS, valuesGCo2PerKwh: values });

describe('constrained oracle', () => {
  test('a hand-solved 3-run, 2-region example', async () => {
    // Hourly intensities (g/kWh):   hour 0  hour 1  hour 2
    //   region A                      100     400     150
    //   region B                      200     250     500
    // Capacity: one start per region per hour. Runs last 6 min, so a run started on the hour emits energy × that
    // hour's value. r1 (2 kWh) may start in [0 h, 1 h], r2 (1 kWh) only at 0 h, r3 (1 kWh) in [0 h, 2 h].
    // Only r3 reaches hour 2, and A2 (150 g) is the cheapest slot it can share with nobody: r3 → A2 = 150 g.
    // r1 and r2 both want A0. r2 is confined to hour 0 (A0 or B0); r1 adds A1/B1:
    //   r1 A0 (200) + r2 B0 (200) = 400;  r1 B0 (400) + r2 A0 (100) = 500;  r1 B1 (500) + r2 A0 (100) = 600;
    //   r1 A1 (800) + r2 A0 (100) = 900.  Best: r1 → A0, r2 → B0.  Total 150 + 400 = 550 g.
    // Without capacity every run takes A0: 200 + 100 + 100 = 400 g.
    const input: ConstrainedOracleInput = {
      candidates: [
        { id: 'A', zone: 'ZA' },
        { id: 'B', zone: 'ZB' },
      ],
      grids: new Map([
        ['ZA', grid([100, 400, 150])],
        ['ZB', grid([200, 250, 500])],
      ]),
      runs: [
        { id: 1, earliestStartMs: T0, latestStartMs: T0 + HOUR_MS, durationMs: 6 * MIN_MS, energyKwh: 2 },
        { id: 2, earliestStartMs: T0, latestStartMs: T0, durationMs: 6 * MIN_MS, energyKwh: 1 },
        { id: 3, earliestStartMs: T0, latestStartMs: T0 + 2 * HOUR_MS, durationMs: 6 * MIN_MS, energyKwh: 1 },
      ],
      capacity: () => 1,
    };
    const optimum = await constrainedOptimum(input);
    assert.equal(optimum.totalGCo2, 550);
    assert.deepEqual(
      optimum.assignments.map((a) => [a.runId, a.candidateId, (a.startMs - T0) / HOUR_MS, a.gCo2]),
      [
        [1, 'A', 0, 200],
        [2, 'B', 0, 200],
        [3, 'A', 2, 150],
      ],
    );
    assert.equal(optimum.lpComponents, 1);
    assert.equal(await optimumByFullLp(input), 550);
    const unlimited = await constrainedOptimum({ ...input, capacity: () => Infinity });
    assert.equal(unlimited.totalGCo2, 400);
    assert.equal(unlimited.lpComponents, 0);
  });

  test('capacity that cannot hold every run inside its window is refused with the stretch named', async () => {
    const runs = [1, 2].map((id) => ({ id, earliestStartMs: T0, latestStartMs: T0, durationMs: MIN_MS, energyKwh: 1 }));
    const input = { runs, candidates: [{ id: 'A', zone: 'ZA' }], grids: new Map([['ZA', grid([1, 2])]]) };
    await assert.rejects(
      constrainedOptimum({ ...input, capacity: () => 1 }),
      (error: unknown) =>
        error instanceof InfeasibleScheduleError && /2 runs arriving from 2023-01-02T00:00/.test(error.message),
    );
    await assert.rejects(constrainedOptimum({ ...input, capacity: () => 1.5 }), /whole number/);
  });

  test('equals exhaustive enumeration on 60 random small instances, infeasible ones included', async () => {
    const rng = createRng(7);
    let infeasible = 0;
    for (let trial = 0; trial < 60; trial += 1) {
      const input = randomInstance(rng, { runs: 4, candidates: 2, hours: 8, maxSlackHours: 2, maxCapacity: 1 });
      if ((await matchesReference(input, optimumByEnumeration(input), `trial ${trial}`)) === null) infeasible += 1;
    }
    assert.ok(infeasible > 0 && infeasible < 60, `a mix of feasible and infeasible instances (${infeasible})`);
  });

  test('equals one LP over every column (no pricing) on 12 random 150-run instances under tight capacity', async () => {
    const rng = createRng(19);
    let priced = 0;
    for (let trial = 0; trial < 12; trial += 1) {
      const input = randomInstance(rng, { runs: 150, candidates: 3, hours: 40, maxSlackHours: 8, maxCapacity: 4 });
      const optimum = await matchesReference(input, await optimumByFullLp(input), `trial ${trial}`);
      if (optimum !== null && optimum.rounds > 1) priced += 1;
    }
    // The instances must exercise the pricing loop, not only first-round answers.
    assert.ok(priced >= 6, `instances that needed more than one pricing round (${priced})`);
  });

  test('is never worse than a feasible greedy schedule, in any run order, on 40 random 40-run instances', async () => {
    const rng = createRng(11);
    let compared = 0;
    for (let trial = 0; trial < 40; trial += 1) {
      const input = randomInstance(rng, { runs: 40, candidates: 3, hours: 30, maxSlackHours: 6, maxCapacity: 2 });
      const greedyTotals = [0, 1, 2, 3].map(() => greedySchedule(input, rng)).filter((t) => t !== null);
      if (greedyTotals.length === 0) continue;
      const optimum = await constrainedOptimum(input);
      for (const total of greedyTotals) assert.ok(optimum.totalGCo2 <= total * (1 + 1e-9), `trial ${trial}`);
      // Every slot within capacity, every run inside its window.
      const starts = new Map<string, number>();
      optimum.assignments.forEach((a, index) => {
        const run = input.runs[index]!;
        assert.ok(a.startMs >= run.earliestStartMs && a.startMs <= run.latestStartMs);
        const key = `${a.candidateId}@${Math.floor(a.startMs / HOUR_MS)}`;
        starts.set(key, (starts.get(key) ?? 0) + 1);
      });
      for (const [key, count] of starts) {
        const [id, hour] = key.split('@');
        assert.ok(count <= input.capacity(id!, Number(hour) * HOUR_MS), `${key} holds ${count}`);
      }
      compared += 1;
    }
    assert.ok(compared >= 10, `enough feasible greedy schedules to compare (${compared})`);
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
      // The same instance under tight capacity costs at least as much.
      const tight = await constrainedOptimum({ ...input, capacity: () => 3 });
      assert.ok(tight.totalGCo2 >= optimum.totalGCo2 * (1 - 1e-12));
    }
  });
});

/** Asserts the oracle reaches the reference optimum, or refuses where it is `null` (infeasible). */
async function matchesReference(
  input: ConstrainedOracleInput,
  expected: number | null,
  label: string,
): Promise<ConstrainedOptimum | null> {
  if (expected === null) {
    await assert.rejects(constrainedOptimum(input), InfeasibleScheduleError);
    return null;
  }
  const optimum = await constrainedOptimum(input);
  assert.ok(Math.abs(optimum.totalGCo2 - expected) <= 1e-9 * expected, `${label}: ${optimum.totalGCo2} vs ${expected}`);
  return optimum;
}

interface Shape {
  runs: number;
  candidates: number;
  hours: number;
  maxSlackHours: number;
  /** Each (candidate, hour) gets 0..maxCapacity starts. */
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
