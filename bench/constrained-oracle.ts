// The exact offline optimum under finite capacity: given every run's arrival, deadline, true duration and
// energy, and each candidate's capacity per clock hour (runs that may start in it), the schedule with the least
// total emissions.
//
// Formulation: each run takes one (candidate, hour) slot at its cleanest start in that hour; capacity counts
// starts per slot. Minimise Σ c[r,s]·x[r,s] subject to Σ_s x[r,s] = 1 per run, Σ_r x[r,s] ≤ cap[s] per slot,
// x ≥ 0: a transportation problem, whose constraint matrix is totally unimodular, so a simplex vertex is integral
// and the LP optimum is the integer optimum. HiGHS (bench/oracle-lp.ts) solves it.
//
// Speed, still exact (LP duality): the full LP for a year has millions of columns. Each run starts with only its
// cheapest slot; a slot is constrained only where more runs offer it than it holds, and runs linked through
// constrained slots form independent components. A component whose runs all fit their cheapest slots is solved
// as is (duals: u[r] = its cost, slot prices 0); the others go to HiGHS, which returns run duals u[r] and slot
// prices p[s] ≤ 0. A left-out column's reduced cost c[r,s] − u[r] − p[s] is ≥ c[r,s] − u[r], so only slots
// cheaper than u[r] can improve the optimum: each run's offered prefix (slots sorted by cost) grows to cover them,
// and the loop ends when no prefix grows. Then the restricted optimum is primal feasible for the full problem,
// its duals (p = 0 for slots without a row) are dual feasible, and complementary slackness holds: it is the
// optimum. A component infeasible on its prefixes widens them; infeasible with every slot offered, it is refused.
import { HOUR_MS, type IntensityGrid } from '../src/carbon/intensity-series.js';
import { InfeasibleScheduleError, type LpOption, solveTransportationLp } from './oracle-lp.js';
import { type OracleCandidate, type OracleRun, slotsOfRun } from './oracle-slots.js';

export { InfeasibleScheduleError };

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
  /** Independent components of the last round, and how many of them needed the LP. */
  components: number;
  lpComponents: number;
  /** Columns of the largest LP solved, and pricing rounds until no run's offer grew. */
  largestLpColumns: number;
  rounds: number;
}

/** One run's slots, cheapest first (ties: earlier start, then candidate order), as parallel arrays. */
interface RunSlots {
  keys: Int32Array;
  costs: Float64Array;
  startsMs: Float64Array;
}

const MAX_ROUNDS = 200;
/** Relative tolerance of the pricing test, above HiGHS's 1e-10 dual tolerance on costs scaled to ≤ 1. */
const PRICING_TOLERANCE = 1e-9;

export async function constrainedOptimum(input: ConstrainedOracleInput): Promise<ConstrainedOptimum> {
  const { runs, candidates } = input;
  if (new Set(candidates.map((c) => c.id)).size !== candidates.length) {
    throw new RangeError('candidate ids must be unique');
  }
  const slotsByRun = runs.map((run) => sortedSlots(run, input));
  const capacityOf = capacityLookup(input);
  const scale = slotsByRun.reduce((max, s) => Math.max(max, s.costs[s.costs.length - 1] ?? 0), Number.MIN_VALUE);
  const offered = runs.map(() => 1);
  const solved = new Map<string, { picks: number[]; duals: number[]; lp: boolean; columns: number }>();
  const pick = new Array<number>(runs.length).fill(0);
  let rounds = 0;
  let stats = { components: 0, lpComponents: 0, largestLpColumns: 0 };
  for (let grew = true; grew; rounds += 1) {
    if (rounds === MAX_ROUNDS) throw new Error(`pricing did not settle in ${MAX_ROUNDS} rounds`);
    grew = false;
    const { components, binding } = linkedComponents(slotsByRun, offered, capacityOf);
    // Only over-full slots get a row: each belongs to one component, so its price is one number, and every
    // other slot prices at 0 (its offers cannot overfill it), which the optimality argument above needs.
    const rowCapacity = (key: number) => (binding.has(key) ? capacityOf(key) : Infinity);
    stats = { components: components.length, lpComponents: 0, largestLpColumns: 0 };
    for (const members of components) {
      const memo = members.map((index) => `${index}:${offered[index]}`).join(',');
      let result = solved.get(memo);
      if (!result) {
        const options = members.map((index) => optionsOf(slotsByRun[index]!, offered[index]!));
        if (cheapestFit(options, capacityOf)) {
          result = { picks: members.map(() => 0), duals: options.map((o) => o[0]!.cost), lp: false, columns: 0 };
        } else {
          const lp = await solveTransportationLp(options, rowCapacity, scale);
          if (lp === null) {
            if (members.every((index) => offered[index] === slotsByRun[index]!.keys.length)) {
              throw infeasible(runs, members);
            }
            // The restricted problem was too narrow to be feasible: wider offers, then solve again.
            for (const index of members) {
              offered[index] = Math.min(slotsByRun[index]!.keys.length, 2 * offered[index]! + 2);
            }
            grew = true;
            continue;
          }
          const columns = options.reduce((sum, o) => sum + o.length, 0);
          result = { picks: lp.picks, duals: lp.runDuals, lp: true, columns };
        }
        solved.set(memo, result);
      }
      if (result.lp) {
        stats.lpComponents += 1;
        stats.largestLpColumns = Math.max(stats.largestLpColumns, result.columns);
      }
      members.forEach((index, position) => {
        pick[index] = result.picks[position]!;
        const costs = slotsByRun[index]!.costs;
        const dual = result.duals[position]!;
        let prefix = offered[index]!;
        while (prefix < costs.length && costs[prefix]! < dual - PRICING_TOLERANCE * scale) prefix += 1;
        if (prefix > offered[index]!) {
          offered[index] = prefix;
          grew = true;
        }
      });
    }
  }

  const assignments = runs.map((run, index): OracleAssignment => {
    const slots = slotsByRun[index]!;
    const at = pick[index]!;
    const key = slots.keys[at]!;
    const candidate = candidates[key % candidates.length]!;
    return { runId: run.id, candidateId: candidate.id, startMs: slots.startsMs[at]!, gCo2: slots.costs[at]! };
  });
  const totalGCo2 = assignments.reduce((sum, a) => sum + a.gCo2, 0);
  return { totalGCo2, assignments, rounds, ...stats };
}

/** A slot's key: hour × candidates + candidate index. */
function sortedSlots(run: OracleRun, input: ConstrainedOracleInput): RunSlots {
  const slots = slotsOfRun(run, input.candidates, input.grids);
  if (slots.length === 0) {
    throw new InfeasibleScheduleError(`run ${run.id}: no start in its window has the whole run inside the trace`);
  }
  slots.sort((a, b) => a.gCo2 - b.gCo2 || a.startMs - b.startMs || a.candidateIndex - b.candidateIndex);
  const n = input.candidates.length;
  return {
    keys: Int32Array.from(slots, (slot) => slot.hour * n + slot.candidateIndex),
    costs: Float64Array.from(slots, (slot) => slot.gCo2),
    startsMs: Float64Array.from(slots, (slot) => slot.startMs),
  };
}

function capacityLookup(input: ConstrainedOracleInput): (key: number) => number {
  const n = input.candidates.length;
  const cache = new Map<number, number>();
  return (key) => {
    let capacity = cache.get(key);
    if (capacity === undefined) {
      const candidateId = input.candidates[key % n]!.id;
      const hour = Math.floor(key / n);
      capacity = input.capacity(candidateId, hour * HOUR_MS);
      if (!(capacity === Infinity || (Number.isInteger(capacity) && capacity >= 0))) {
        throw new RangeError(`capacity of ${candidateId} at hour ${hour} must be a whole number ≥ 0 or Infinity`);
      }
      cache.set(key, capacity);
    }
    return capacity;
  };
}

function optionsOf(slots: RunSlots, count: number): LpOption[] {
  return Array.from({ length: count }, (_, i) => ({ key: slots.keys[i]!, cost: slots.costs[i]! }));
}

/** Every run on its cheapest offered slot stays within capacity. */
function cheapestFit(options: readonly LpOption[][], capacityOf: (key: number) => number): boolean {
  const used = new Map<number, number>();
  for (const runOptions of options) {
    const key = runOptions[0]!.key;
    const count = (used.get(key) ?? 0) + 1;
    if (count > capacityOf(key)) return false;
    used.set(key, count);
  }
  return true;
}

/**
 * Runs grouped by shared binding slots (offered by more runs than they hold), each group sorted. A run whose
 * offers touch no such slot is a group of its own.
 */
function linkedComponents(
  slotsByRun: readonly RunSlots[],
  offered: readonly number[],
  capacityOf: (key: number) => number,
): { components: number[][]; binding: Set<number> } {
  const demand = new Map<number, number>();
  slotsByRun.forEach((slots, index) => {
    for (let i = 0; i < offered[index]!; i += 1) demand.set(slots.keys[i]!, (demand.get(slots.keys[i]!) ?? 0) + 1);
  });
  const parent = slotsByRun.map((_, index) => index);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]!]!;
    return x;
  };
  const firstRunOfSlot = new Map<number, number>();
  const binding = new Set<number>();
  slotsByRun.forEach((slots, index) => {
    for (let i = 0; i < offered[index]!; i += 1) {
      const key = slots.keys[i]!;
      if (capacityOf(key) >= (demand.get(key) ?? 0)) continue;
      binding.add(key);
      const first = firstRunOfSlot.get(key);
      if (first === undefined) firstRunOfSlot.set(key, index);
      else parent[find(index)] = find(first);
    }
  });
  const groups = new Map<number, number[]>();
  slotsByRun.forEach((_, index) => {
    const root = find(index);
    const group = groups.get(root);
    if (group) group.push(index);
    else groups.set(root, [index]);
  });
  return { components: [...groups.values()], binding };
}

function infeasible(runs: readonly OracleRun[], members: readonly number[]): InfeasibleScheduleError {
  const first = Math.min(...members.map((index) => runs[index]!.earliestStartMs));
  return new InfeasibleScheduleError(
    `${members.length} runs arriving from ${new Date(first).toISOString()} do not fit the capacity within their deadlines`,
  );
}
