// The slow reference for the constrained oracle: one LP with every (run, column) variable and every capacity
// row, no pricing and no decomposition. The fast oracle must reach the same optimum (test/bench) in a fraction of
// the time (bench:oracle).
import { HOUR_MS } from '../src/carbon/intensity-series.js';
import { type ConstrainedOracleInput, MISS_PENALTY } from './constrained-oracle.js';
import { type LpOption, solveAssignmentLp } from './oracle-lp.js';
import { columnsOfRun } from './oracle-slots.js';

/** The LP's objective without the miss penalties: least emissions, and the miss mass that goes with it. */
export async function optimumByFullLp(input: ConstrainedOracleInput): Promise<{ totalGCo2: number; misses: number }> {
  const n = input.candidates.length;
  const bucketMs = input.bucketMs ?? HOUR_MS;
  const columnsByRun = input.runs.map((run) => columnsOfRun(run, input.candidates, input.grids, bucketMs));
  const scale = columnsByRun.reduce((max, c) => Math.max(max, ...c.costs), Number.MIN_VALUE);
  const options = columnsByRun.map((columns): LpOption[] => [
    ...Array.from(columns.costs, (cost, i) => {
      const [from, to] = [columns.chargeOffsets[i]!, columns.chargeOffsets[i + 1]!];
      return { cost, keys: columns.chargeKeys.slice(from, to), loads: columns.chargeLoads.slice(from, to) };
    }),
    { cost: columns.lateCost + MISS_PENALTY * scale, keys: [], loads: [] },
  ]);
  const capacityOf = (key: number) => input.capacity(input.candidates[key % n]!.id, Math.floor(key / n) * bucketMs);
  const solution = await solveAssignmentLp(options, capacityOf, scale);
  let totalGCo2 = 0;
  let misses = 0;
  solution.shares.forEach((shares, run) => {
    const missOption = options[run]!.length - 1;
    for (const { option, share } of shares) {
      if (option === missOption) {
        misses += share;
        totalGCo2 += share * columnsByRun[run]!.lateCost;
      } else totalGCo2 += share * options[run]![option]!.cost;
    }
  });
  return { totalGCo2, misses };
}
