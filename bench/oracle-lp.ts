// One transportation LP over (run, slot) columns, solved by HiGHS: each run takes exactly one of its offered slots,
// each capacity-limited slot holds at most its capacity. Returns the integral picks and the duals that let the
// caller prove columns it left out cannot improve the optimum.
import * as highsPackage from 'highs';
import type { Highs } from 'highs';

/** Thrown when no schedule keeps every run inside its window and every slot within capacity. */
export class InfeasibleScheduleError extends Error {
  override name = 'InfeasibleScheduleError';
}

/** A column: the run (row position in the LP) may take slot `key` at cost `cost`. */
export interface LpOption {
  key: number;
  cost: number;
}

export interface LpSolution {
  /** Per run, the index into its options of the slot it takes. */
  picks: number[];
  /** Per run, the dual of "takes exactly one slot", in cost units. */
  runDuals: number[];
  /** Dual (≤ 0) of each capacity row, in cost units; slots without a row price at 0. */
  slotDuals: Map<number, number>;
}

// The package's types describe its CommonJS build (default = the whole module); at run time the ES build's
// `default` is the loader itself.
const loadHighs = highsPackage.default as unknown as () => Promise<Highs>;
let highsRuntime: Promise<Highs> | undefined;

/**
 * `null` when infeasible. Costs are divided by `scale` (≥ every cost) so that HiGHS's absolute tolerances,
 * tightened from 1e-7, act as relative ones: slots can differ by a few parts in a billion of the largest cost.
 * Columns have no upper bound (x ≤ 1 follows from the run's row), so a column's reduced cost is cost − duals.
 */
export async function solveTransportationLp(
  options: readonly (readonly LpOption[])[],
  capacityOf: (key: number) => number,
  scale: number,
): Promise<LpSolution | null> {
  const highs = await (highsRuntime ??= loadHighs());
  const slotRows = new Map<number, number>();
  const rowUpper: number[] = options.map(() => 1);
  const rowLower: number[] = options.map(() => 1);
  const starts = [0];
  const indices: number[] = [];
  const colCost: number[] = [];
  const owner: { run: number; option: number }[] = [];
  options.forEach((runOptions, run) => {
    runOptions.forEach((option, index) => {
      indices.push(run);
      const capacity = capacityOf(option.key);
      if (capacity < Infinity) {
        let row = slotRows.get(option.key);
        if (row === undefined) {
          row = rowUpper.length;
          slotRows.set(option.key, row);
          rowLower.push(-highs.infinity);
          rowUpper.push(capacity);
        }
        indices.push(row);
      }
      starts.push(indices.length);
      colCost.push(option.cost / scale);
      owner.push({ run, option: index });
    });
  });
  const model = {
    numCols: colCost.length,
    numRows: rowUpper.length,
    colCost,
    colLower: colCost.map(() => 0),
    colUpper: colCost.map(() => highs.infinity),
    rowLower,
    rowUpper,
    matrix: {
      format: 'csc' as const,
      numRows: rowUpper.length,
      numCols: colCost.length,
      starts,
      indices,
      values: indices.map(() => 1),
    },
  };
  const solution = highs.withModel(model, (lp) => {
    lp.options.set({
      output_flag: false,
      solver: 'simplex',
      dual_feasibility_tolerance: 1e-10,
      primal_feasibility_tolerance: 1e-9,
    });
    lp.run();
    const status = lp.getModelStatus();
    if (status === highs.constants.modelStatus.infeasible) return null;
    if (status !== highs.constants.modelStatus.optimal) throw new Error(`HiGHS ended with model status ${status}`);
    const { colValue, rowDual } = lp.getSolution();
    return { colValue: Array.from(colValue), rowDual: Array.from(rowDual) };
  });
  if (solution === null) return null;
  const picks: number[] = [];
  owner.forEach(({ run, option }, column) => {
    const value = solution.colValue[column] ?? 0;
    if (value > 1e-6 && value < 1 - 1e-6) {
      throw new Error(`LP vertex is fractional (${value}): not a transportation LP`);
    }
    if (value >= 0.5) picks[run] = option;
  });
  const slotDuals = new Map<number, number>();
  for (const [key, row] of slotRows) slotDuals.set(key, Math.min(0, (solution.rowDual[row] ?? 0) * scale));
  return {
    picks,
    runDuals: options.map((_, run) => (solution.rowDual[run] ?? 0) * scale),
    slotDuals,
  };
}
