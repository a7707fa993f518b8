// Schedules and bounds to hold the constrained oracle against: every whole-run assignment of a tiny instance,
// greedy schedules, and the fewest misses the LP allows (misses alone minimised over every column).
import { type ConstrainedOracleInput, MISS_PENALTY } from '../../bench/constrained-oracle.js';
import { solveAssignmentLp } from '../../bench/oracle-lp.js';
import { type RunColumns, columnsOfRun } from '../../bench/oracle-slots.js';
import type { Rng } from '../../bench/rng.js';
import { HOUR_MS } from '../../src/carbon/intensity-series.js';

/** A whole-run schedule's emissions and misses, and the LP objective it would score. */
interface Scored {
  totalGCo2: number;
  misses: number;
  objective: number;
}

function table(input: ConstrainedOracleInput) {
  const n = input.candidates.length;
  const bucketMs = input.bucketMs ?? HOUR_MS;
  const columns = input.runs.map((run) => columnsOfRun(run, input.candidates, input.grids, bucketMs));
  const scale = columns.reduce((max, c) => Math.max(max, ...c.costs), Number.MIN_VALUE);
  const capacity = (key: number) => input.capacity(input.candidates[key % n]!.id, Math.floor(key / n) * bucketMs);
  const charges = (c: RunColumns, i: number) =>
    Array.from({ length: c.chargeOffsets[i + 1]! - c.chargeOffsets[i]! }, (_, j) => ({
      key: c.chargeKeys[c.chargeOffsets[i]! + j]!,
      load: c.chargeLoads[c.chargeOffsets[i]! + j]!,
    }));
  const score = (totalGCo2: number, misses: number): Scored => ({
    totalGCo2,
    misses,
    objective: totalGCo2 + MISS_PENALTY * scale * misses,
  });
  return { columns, capacity, charges, score };
}

/** Tolerance on summed loads, as the oracle allows. */
const FITS = 1e-9;

/** The best whole-run schedule (each run one start or a miss) by depth-first search: only for a handful of runs. */
export function bestWholeRunSchedule(input: ConstrainedOracleInput): Scored {
  const { columns, capacity, charges, score } = table(input);
  const used = new Map<number, number>();
  let best: Scored | null = null;
  const visit = (runIndex: number, totalGCo2: number, misses: number): void => {
    if (runIndex === columns.length) {
      const scored = score(totalGCo2, misses);
      if (best === null || scored.objective < best.objective) best = scored;
      return;
    }
    const c = columns[runIndex]!;
    visit(runIndex + 1, totalGCo2 + c.lateCost, misses + 1);
    for (let i = 0; i < c.costs.length; i += 1) {
      const loads = charges(c, i);
      if (loads.some(({ key, load }) => (used.get(key) ?? 0) + load > capacity(key) + FITS)) continue;
      for (const { key, load } of loads) used.set(key, (used.get(key) ?? 0) + load);
      visit(runIndex + 1, totalGCo2 + c.costs[i]!, misses);
      for (const { key, load } of loads) used.set(key, used.get(key)! - load);
    }
  };
  visit(0, 0, 0);
  return best!;
}

/** Runs in a random order, each taking its cheapest start with room left, or missing when none has room. */
export function greedySchedule(input: ConstrainedOracleInput, rng: Rng): Scored {
  const { columns, capacity, charges, score } = table(input);
  const order = columns.map((_, index) => index);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const used = new Map<number, number>();
  let totalGCo2 = 0;
  let misses = 0;
  for (const index of order) {
    const c = columns[index]!;
    // Columns are sorted cheapest first.
    const pick = Array.from(c.costs.keys()).find((i) =>
      charges(c, i).every(({ key, load }) => (used.get(key) ?? 0) + load <= capacity(key) + FITS),
    );
    if (pick === undefined) {
      totalGCo2 += c.lateCost;
      misses += 1;
      continue;
    }
    for (const { key, load } of charges(c, pick)) used.set(key, (used.get(key) ?? 0) + load);
    totalGCo2 += c.costs[pick]!;
  }
  return score(totalGCo2, misses);
}

/** The least miss mass of the LP relaxation: a miss costs 1, any start 0, every column and row present. */
export async function fewestMissesByLp(input: ConstrainedOracleInput): Promise<number> {
  const { columns, capacity, charges } = table(input);
  const options = columns.map((c) => [
    ...Array.from(c.costs.keys(), (i) => {
      const loads = charges(c, i);
      return { cost: 0, keys: loads.map((l) => l.key), loads: loads.map((l) => l.load) };
    }),
    { cost: 1, keys: [], loads: [] },
  ]);
  const solution = await solveAssignmentLp(options, capacity, 1);
  return solution.shares.reduce(
    (sum, shares, run) =>
      sum + shares.filter((s) => s.option === options[run]!.length - 1).reduce((a, s) => a + s.share, 0),
    0,
  );
}
