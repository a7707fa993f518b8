// The exact offline optimum under finite capacity: given every run's arrival, deadline, true duration and
// energy, and each candidate's capacity per clock hour (runs that may start in it), the schedule with the least
// total emissions. Each run takes one (candidate, hour) slot at its cleanest start in that hour; capacity counts
// starts per slot. That is a transportation problem: its LP has a totally unimodular constraint matrix, so a
// simplex vertex is integral and the LP optimum is the integer optimum. HiGHS (WASM, offline) solves it.
//
// Decomposition, exact: runs whose hour ranges do not overlap share no slot, so each connected stretch of time
// is solved alone; within one, a slot whose capacity covers every run that can reach it is unconstrained, so a
// run keeps only its cheapest such slot; and a stretch where every run's cheapest slot fits needs no LP at all.
import * as highsPackage from 'highs';
import type { Highs } from 'highs';
import { HOUR_MS, type IntensityGrid } from '../src/carbon/intensity-series.js';
import { type OracleCandidate, type OracleRun, type Slot, cheapestSlot, slotsOfRun } from './oracle-slots.js';

/** Runs candidate `candidateId` can start in the clock hour beginning at `hourStartMs`; `Infinity`: unlimited. */
type HourlyCapacity = (candidateId: string, hourStartMs: number) => number;

export interface ConstrainedOracleInput {
  runs: readonly OracleRun[];
  candidates: readonly OracleCandidate[];
  /** True intensities by zone. */
  grids: ReadonlyMap<string, IntensityGrid>;
  capacity: HourlyCapacity;
}

interface OracleAssignment {
  runId: number;
  candidateId: string;
  startMs: number;
  gCo2: number;
}

export interface ConstrainedOptimum {
  totalGCo2: number;
  /** In the order of `input.runs`. */
  assignments: OracleAssignment[];
  /** Independent stretches of time, and how many of them needed the LP (the rest fit unconstrained). */
  components: number;
  lpComponents: number;
  /** Columns of the largest LP solved. */
  largestLpColumns: number;
}

/** Thrown when no schedule keeps every run inside its window and every slot within capacity. */
export class InfeasibleScheduleError extends Error {
  override name = 'InfeasibleScheduleError';
}

// The package's types describe its CommonJS build (default = the whole module); at run time the ES build's
// `default` is the loader itself.
const loadHighs = highsPackage.default as unknown as () => Promise<Highs>;
let highsRuntime: Promise<Highs> | undefined;

export async function constrainedOptimum(input: ConstrainedOracleInput): Promise<ConstrainedOptimum> {
  const { runs, candidates } = input;
  if (new Set(candidates.map((c) => c.id)).size !== candidates.length) {
    throw new RangeError('candidate ids must be unique');
  }
  const slotsByRun = runs.map((run) => {
    const slots = slotsOfRun(run, candidates, input.grids);
    if (slots.length === 0) {
      throw new InfeasibleScheduleError(`run ${run.id}: no start in its window has the whole run inside the trace`);
    }
    return slots;
  });
  const keyOf = (slot: Slot) => slot.hour * candidates.length + slot.candidateIndex;
  const capacityCache = new Map<number, number>();
  const capacityOf = (slot: Slot): number => {
    const key = keyOf(slot);
    let capacity = capacityCache.get(key);
    if (capacity === undefined) {
      const candidateId = candidates[slot.candidateIndex]?.id ?? '';
      capacity = input.capacity(candidateId, slot.hour * HOUR_MS);
      if (!(capacity === Infinity || (Number.isInteger(capacity) && capacity >= 0))) {
        throw new RangeError(`capacity of ${candidateId} at hour ${slot.hour} must be a whole number ≥ 0 or Infinity`);
      }
      capacityCache.set(key, capacity);
    }
    return capacity;
  };

  const chosen = new Array<Slot | undefined>(runs.length);
  let lpComponents = 0;
  let largestLpColumns = 0;
  const components = connectedStretches(runs);
  for (const members of components) {
    const demand = new Map<number, number>();
    for (const index of members) {
      for (const slot of slotsByRun[index] ?? []) demand.set(keyOf(slot), (demand.get(keyOf(slot)) ?? 0) + 1);
    }
    const binding = (slot: Slot) => capacityOf(slot) < (demand.get(keyOf(slot)) ?? 0);
    const options = members.map((index) => {
      const slots = slotsByRun[index] ?? [];
      const free = cheapestSlot(slots.filter((slot) => !binding(slot)));
      return free === undefined ? slots.filter(binding) : [free, ...slots.filter(binding)];
    });
    const greedy = options.map((slots) => cheapestSlot(slots));
    const used = new Map<number, number>();
    for (const slot of greedy) if (slot) used.set(keyOf(slot), (used.get(keyOf(slot)) ?? 0) + 1);
    const fits = greedy.every((slot) => slot !== undefined && (used.get(keyOf(slot)) ?? 0) <= capacityOf(slot));
    const picks = fits
      ? greedy
      : solveLp(await (highsRuntime ??= loadHighs()), options, keyOf, capacityOf, runs, members);
    if (!fits) {
      lpComponents += 1;
      largestLpColumns = Math.max(
        largestLpColumns,
        options.reduce((sum, slots) => sum + slots.length, 0),
      );
    }
    members.forEach((index, position) => (chosen[index] = picks[position]));
  }

  const assignments = runs.map((run, index): OracleAssignment => {
    const slot = chosen[index];
    const candidate = slot && candidates[slot.candidateIndex];
    if (!slot || !candidate) throw new Error(`run ${run.id} was left without a slot`);
    return { runId: run.id, candidateId: candidate.id, startMs: slot.startMs, gCo2: slot.gCo2 };
  });
  const totalGCo2 = assignments.reduce((sum, a) => sum + a.gCo2, 0);
  return { totalGCo2, assignments, components: components.length, lpComponents, largestLpColumns };
}

/** Indices of runs grouped into maximal stretches whose hour ranges chain together. */
function connectedStretches(runs: readonly OracleRun[]): number[][] {
  const order = runs.map((_, index) => index).sort((a, b) => runs[a]!.earliestStartMs - runs[b]!.earliestStartMs);
  const stretches: number[][] = [];
  let lastHour = -Infinity;
  for (const index of order) {
    const run = runs[index]!;
    if (Math.floor(run.earliestStartMs / HOUR_MS) > lastHour) stretches.push([]);
    stretches[stretches.length - 1]!.push(index);
    lastHour = Math.max(lastHour, Math.floor(run.latestStartMs / HOUR_MS));
  }
  return stretches;
}

/** Solves one stretch: rows = one per run (exactly one slot) and one per binding slot (≤ capacity). */
function solveLp(
  highs: Highs,
  options: readonly Slot[][],
  keyOf: (slot: Slot) => number,
  capacityOf: (slot: Slot) => number,
  runs: readonly OracleRun[],
  members: readonly number[],
): Slot[] {
  const slotRows = new Map<number, number>();
  const rowUpper: number[] = options.map(() => 1);
  const rowLower: number[] = options.map(() => 1);
  const columns = options.flatMap((slots, runRow) => slots.map((slot) => ({ slot, runRow })));
  const starts = [0];
  const indices: number[] = [];
  const maxCost = columns.reduce((max, c) => Math.max(max, c.slot.gCo2), Number.MIN_VALUE);
  for (const { slot, runRow } of columns) {
    indices.push(runRow);
    if (capacityOf(slot) < Infinity) {
      let row = slotRows.get(keyOf(slot));
      if (row === undefined) {
        row = rowUpper.length;
        slotRows.set(keyOf(slot), row);
        rowLower.push(-highs.infinity);
        rowUpper.push(capacityOf(slot));
      }
      indices.push(row);
    }
    starts.push(indices.length);
  }
  // Costs scaled to at most 1 (the optimal vertex is the same) so that HiGHS's absolute tolerances, tightened
  // from 1e-7, mean relative ones: slots can differ by a few parts in a billion of the largest cost.
  const model = {
    numCols: columns.length,
    numRows: rowUpper.length,
    colCost: columns.map((c) => c.slot.gCo2 / maxCost),
    colLower: columns.map(() => 0),
    colUpper: columns.map(() => 1),
    rowLower,
    rowUpper,
    matrix: {
      format: 'csc' as const,
      numRows: rowUpper.length,
      numCols: columns.length,
      starts,
      indices,
      values: indices.map(() => 1),
    },
  };
  const values = highs.withModel(model, (lp) => {
    lp.options.set({
      output_flag: false,
      solver: 'simplex',
      dual_feasibility_tolerance: 1e-10,
      primal_feasibility_tolerance: 1e-9,
    });
    lp.run();
    const status = lp.getModelStatus();
    if (status === highs.constants.modelStatus.infeasible) {
      const first = runs[members[0]!]!;
      throw new InfeasibleScheduleError(
        `${members.length} runs arriving from ${new Date(first.earliestStartMs).toISOString()} do not fit the ` +
          'capacity within their deadlines',
      );
    }
    if (status !== highs.constants.modelStatus.optimal) throw new Error(`HiGHS ended with model status ${status}`);
    return lp.getSolution().colValue;
  });
  const picks: Slot[] = [];
  columns.forEach(({ slot, runRow }, column) => {
    const value = values[column] ?? 0;
    if (value > 1e-6 && value < 1 - 1e-6)
      throw new Error(`LP vertex is fractional (${value}): not a transportation LP`);
    if (value >= 0.5) picks[runRow] = slot;
  });
  return picks;
}
