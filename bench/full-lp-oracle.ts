// The slow reference for the constrained oracle: one LP with every (run, slot) column, no pricing and no
// decomposition. The fast oracle must reach the same optimum (test/bench) in a fraction of the time (bench:oracle).
import type { ConstrainedOracleInput } from './constrained-oracle.js';
import { solveTransportationLp } from './oracle-lp.js';
import { slotsOfRun } from './oracle-slots.js';
import { HOUR_MS } from '../src/carbon/intensity-series.js';

/** Least total emissions, or `null` when no schedule fits. */
export async function optimumByFullLp(input: ConstrainedOracleInput): Promise<number | null> {
  const n = input.candidates.length;
  const options = input.runs.map((run) =>
    slotsOfRun(run, input.candidates, input.grids).map((slot) => ({
      key: slot.hour * n + slot.candidateIndex,
      cost: slot.gCo2,
    })),
  );
  if (options.some((runOptions) => runOptions.length === 0)) return null;
  const capacityOf = (key: number) => input.capacity(input.candidates[key % n]!.id, Math.floor(key / n) * HOUR_MS);
  const scale = options.flat().reduce((max, option) => Math.max(max, option.cost), Number.MIN_VALUE);
  const solution = await solveTransportationLp(options, capacityOf, scale);
  if (solution === null) return null;
  return solution.picks.reduce((sum, at, run) => sum + options[run]![at]!.cost, 0);
}
