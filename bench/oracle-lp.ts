// One LP over (run, column) variables, solved by HiGHS: each run's columns sum to 1, and each capacity bucket's
// busy time Σ load·x stays within its capacity. Weighted rows make the optimum possibly fractional: it is an LP
// relaxation. Returns the values and the duals that let the caller prove left-out columns cannot improve it.
import * as highsPackage from 'highs';
import type { Highs } from 'highs';

/** A column: run (row position in the LP) takes it at `cost`, charging `loads[i]` to bucket `keys[i]`. */
export interface LpOption {
  cost: number;
  keys: ArrayLike<number>;
  loads: ArrayLike<number>;
}

export interface LpSolution {
  /** Per run, the options it takes with their share (> 0, summing to 1). */
  shares: { option: number; share: number }[][];
  /** Per run, the dual of "its shares sum to 1", in cost units. */
  runDuals: number[];
}

// The package's types describe its CommonJS build (default = the whole module); at run time the ES build's
// `default` is the loader itself.
const loadHighs = highsPackage.default as unknown as () => Promise<Highs>;
let highsRuntime: Promise<Highs> | undefined;

/** Shares below this are solver noise around a zero. */
const ZERO_SHARE = 1e-9;

/**
 * Costs are divided by `scale` (≥ every in-window cost) so that HiGHS's absolute tolerances, tightened from 1e-7,
 * act as relative ones. Columns have no upper bound (x ≤ 1 follows from the run's row), so a column's reduced cost
 * is cost − run dual − Σ load · bucket dual, with bucket duals ≤ 0. Buckets where `capacityOf` is Infinity get no
 * row. The caller keeps the LP feasible (every run has a column that charges nothing).
 */
export async function solveAssignmentLp(
  options: readonly (readonly LpOption[])[],
  capacityOf: (key: number) => number,
  scale: number,
): Promise<LpSolution> {
  const highs = await (highsRuntime ??= loadHighs());
  const bucketRows = new Map<number, number>();
  const rowUpper: number[] = options.map(() => 1);
  const rowLower: number[] = options.map(() => 1);
  const starts = [0];
  const indices: number[] = [];
  const values: number[] = [];
  const colCost: number[] = [];
  const owner: { run: number; option: number }[] = [];
  options.forEach((runOptions, run) => {
    runOptions.forEach((option, index) => {
      indices.push(run);
      values.push(1);
      for (let i = 0; i < option.keys.length; i += 1) {
        const key = option.keys[i]!;
        const capacity = capacityOf(key);
        if (capacity === Infinity) continue;
        let row = bucketRows.get(key);
        if (row === undefined) {
          row = rowUpper.length;
          bucketRows.set(key, row);
          rowLower.push(-highs.infinity);
          rowUpper.push(capacity);
        }
        indices.push(row);
        values.push(option.loads[i]!);
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
    matrix: { format: 'csc' as const, numRows: rowUpper.length, numCols: colCost.length, starts, indices, values },
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
    if (status !== highs.constants.modelStatus.optimal) throw new Error(`HiGHS ended with model status ${status}`);
    const { colValue, rowDual } = lp.getSolution();
    return { colValue: Array.from(colValue), rowDual: Array.from(rowDual) };
  });
  const shares: LpSolution['shares'] = options.map(() => []);
  owner.forEach(({ run, option }, column) => {
    const share = solution.colValue[column] ?? 0;
    if (share > ZERO_SHARE) shares[run]!.push({ option, share });
  });
  return { shares, runDuals: options.map((_, run) => (solution.rowDual[run] ?? 0) * scale) };
}
