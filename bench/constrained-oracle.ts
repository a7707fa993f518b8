// The offline optimum under finite concurrency: given every run's arrival, deadline, true duration and energy, and
// each candidate's capacity (runs at once), the least total emissions any schedule can reach, and the fewest
// deadline misses it must accept.
//
// Formulation (an LP relaxation, stated as such): each run spreads a unit over its columns (bench/oracle-slots.ts:
// starts on each candidate, with true emissions and the busy time they put into each capacity bucket) plus one
// "miss" column (start after the deadline, emissions of the first late instant, penalty M, no capacity). Per
// (candidate, bucket): Σ busy time ÷ bucket length × x ≤ runs at once. A schedule that never runs more than the
// capacity at once keeps every bucket's busy time within it, and every start is a mix of columns, so every real
// schedule is feasible here: the LP's emissions are a lower bound (its saving an upper bound) and its misses a
// lower bound on any real schedule's. Weighted rows make vertices possibly fractional; shares are reported as is.
// With M = 1000 × the costliest in-window run, misses come first unless avoiding one miss would cost more than a
// thousand runs' worth of emissions.
//
// Speed, still exact (LP duality): each run starts with only its cheapest column (and its miss column); a bucket
// gets a row only where the runs offering it could overfill it, and runs linked through such rows form independent
// components. A component whose runs all fit their cheapest columns is solved as is (duals: u[r] = its cost,
// bucket prices 0); the others go to HiGHS, which returns run duals u[r] and bucket prices p[b] ≤ 0. A left-out
// column's reduced cost c − u[r] − Σ_b load[b]·p[b] is ≥ c − u[r] (loads ≥ 0), so only columns cheaper than u[r]
// can improve the optimum: each run's offered prefix grows to cover them, and the loop ends when none grows. Then
// the restricted optimum is feasible for the full LP, its duals (p = 0 without a row) are dual feasible, and
// complementary slackness holds: it is the LP's optimum.
import { HOUR_MS, type IntensityGrid } from '../src/carbon/intensity-series.js';
import { type LpOption, solveAssignmentLp } from './oracle-lp.js';
import { type OracleCandidate, type OracleRun, type RunColumns, columnsOfRun } from './oracle-slots.js';

/** Runs candidate `candidateId` can hold at once in the bucket starting at `bucketStartMs`; `Infinity`: unlimited. */
type Concurrency = (candidateId: string, bucketStartMs: number) => number;

export interface ConstrainedOracleInput {
  runs: readonly OracleRun[];
  candidates: readonly OracleCandidate[];
  /** True intensities by zone. */
  grids: ReadonlyMap<string, IntensityGrid>;
  capacity: Concurrency;
  /** Length of a capacity bucket; default a clock hour. */
  bucketMs?: number;
}

interface OracleShare {
  candidateId: string;
  startMs: number;
  /** Part of the run started here (1 for a whole run). */
  share: number;
  /** Emissions of the whole run started here. */
  gCo2: number;
}

interface OracleAssignment {
  runId: number;
  shares: OracleShare[];
  /** Part of the run past its deadline. */
  missedShare: number;
  /** Σ share × emissions, the late part at its first late instant. */
  gCo2: number;
}

export interface ConstrainedOptimum {
  totalGCo2: number;
  /** Σ missed shares: no schedule misses fewer runs. */
  misses: number;
  /** Runs split over more than one column. */
  fractionalRuns: number;
  /** In the order of `input.runs`. */
  assignments: OracleAssignment[];
  /** Independent components of the last round, and how many of them needed the LP. */
  components: number;
  lpComponents: number;
  /** Columns of the largest LP solved, and pricing rounds until no run's offer grew. */
  largestLpColumns: number;
  rounds: number;
}

interface ComponentSolution {
  /** Per member: option index (the offered count means the miss column) and share. */
  shares: { option: number; share: number }[][];
  duals: number[];
  lp: boolean;
  columns: number;
}

const MAX_ROUNDS = 200;
/** Relative tolerance of the pricing test, above HiGHS's 1e-10 dual tolerance on costs scaled to ≤ 1. */
const PRICING_TOLERANCE = 1e-9;
/** A miss costs this many times the costliest in-window run, on top of its emissions. */
export const MISS_PENALTY = 1000;
/** Busy time within this many bucket lengths of a capacity counts as fitting (float sums of loads). */
const LOAD_TOLERANCE = 1e-9;

export async function constrainedOptimum(input: ConstrainedOracleInput): Promise<ConstrainedOptimum> {
  const { runs, candidates } = input;
  if (new Set(candidates.map((c) => c.id)).size !== candidates.length) {
    throw new RangeError('candidate ids must be unique');
  }
  const bucketMs = input.bucketMs ?? HOUR_MS;
  if (!(bucketMs > 0)) throw new RangeError(`bucket length must be > 0 ms, got ${bucketMs}`);
  const columnsByRun = runs.map((run) => columnsOfRun(run, candidates, input.grids, bucketMs));
  const capacityOf = capacityLookup(input, bucketMs);
  const scale = columnsByRun.reduce((max, c) => Math.max(max, c.costs[c.costs.length - 1]!), Number.MIN_VALUE);
  const offered = runs.map(() => 1);
  const solved = new Map<string, ComponentSolution>();
  const chosen: ComponentSolution['shares'] = runs.map(() => []);
  let rounds = 0;
  let stats = { components: 0, lpComponents: 0, largestLpColumns: 0 };
  for (let grew = true; grew; rounds += 1) {
    if (rounds === MAX_ROUNDS) throw new Error(`pricing did not settle in ${MAX_ROUNDS} rounds`);
    grew = false;
    const { components, binding } = linkedComponents(columnsByRun, offered, capacityOf);
    // Only buckets that could overfill get a row: each belongs to one component, so its price is one number, and
    // every other bucket prices at 0, which the optimality argument above needs.
    const rowCapacity = (key: number) => (binding.has(key) ? capacityOf(key) : Infinity);
    stats = { components: components.length, lpComponents: 0, largestLpColumns: 0 };
    for (const members of components) {
      const memo = members.map((index) => `${index}:${offered[index]}`).join(',');
      let result = solved.get(memo);
      if (!result) {
        const options = members.map((index) => optionsOf(columnsByRun[index]!, offered[index]!, scale));
        if (cheapestFit(options, capacityOf)) {
          const shares = members.map(() => [{ option: 0, share: 1 }]);
          result = { shares, duals: options.map((o) => o[0]!.cost), lp: false, columns: 0 };
        } else {
          const lp = await solveAssignmentLp(options, rowCapacity, scale);
          const columns = options.reduce((sum, o) => sum + o.length, 0);
          result = { shares: lp.shares, duals: lp.runDuals, lp: true, columns };
        }
        solved.set(memo, result);
      }
      if (result.lp) {
        stats.lpComponents += 1;
        stats.largestLpColumns = Math.max(stats.largestLpColumns, result.columns);
      }
      members.forEach((index, position) => {
        chosen[index] = result.shares[position]!;
        const costs = columnsByRun[index]!.costs;
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
  const assignments = runs.map((run, index) =>
    assignmentOf(run, columnsByRun[index]!, chosen[index]!, offered[index]!),
  );
  return {
    totalGCo2: assignments.reduce((sum, a) => sum + a.gCo2, 0),
    misses: assignments.reduce((sum, a) => sum + a.missedShare, 0),
    fractionalRuns: assignments.filter((a) => a.shares.length + (a.missedShare > 0 ? 1 : 0) > 1).length,
    assignments,
    rounds,
    ...stats,
  };

  function assignmentOf(
    run: OracleRun,
    columns: RunColumns,
    shares: readonly { option: number; share: number }[],
    missOption: number,
  ): OracleAssignment {
    let missedShare = 0;
    const placed: OracleShare[] = [];
    for (const { option, share } of shares) {
      if (option === missOption) missedShare += share;
      else {
        const candidateId = candidates[columns.candidates[option]!]!.id;
        placed.push({ candidateId, startMs: columns.startsMs[option]!, share, gCo2: columns.costs[option]! });
      }
    }
    const gCo2 = placed.reduce((sum, p) => sum + p.share * p.gCo2, missedShare * columns.lateCost);
    return { runId: run.id, shares: placed, missedShare, gCo2 };
  }
}

function capacityLookup(input: ConstrainedOracleInput, bucketMs: number): (key: number) => number {
  const n = input.candidates.length;
  const cache = new Map<number, number>();
  return (key) => {
    let capacity = cache.get(key);
    if (capacity === undefined) {
      const candidateId = input.candidates[key % n]!.id;
      const bucketStartMs = Math.floor(key / n) * bucketMs;
      capacity = input.capacity(candidateId, bucketStartMs);
      if (!(capacity >= 0)) {
        const at = new Date(bucketStartMs).toISOString();
        throw new RangeError(`capacity of ${candidateId} at ${at} must be a number ≥ 0 or Infinity, got ${capacity}`);
      }
      cache.set(key, capacity);
    }
    return capacity;
  };
}

/** The first `count` columns, then the miss column (charges nothing, so every LP stays feasible). */
function optionsOf(columns: RunColumns, count: number, scale: number): LpOption[] {
  const options: LpOption[] = [];
  for (let i = 0; i < count; i += 1) {
    const from = columns.chargeOffsets[i]!;
    const to = columns.chargeOffsets[i + 1]!;
    options.push({
      cost: columns.costs[i]!,
      keys: columns.chargeKeys.subarray(from, to),
      loads: columns.chargeLoads.subarray(from, to),
    });
  }
  options.push({ cost: columns.lateCost + MISS_PENALTY * scale, keys: [], loads: [] });
  return options;
}

/** Every run on its cheapest offered column stays within capacity. */
function cheapestFit(options: readonly LpOption[][], capacityOf: (key: number) => number): boolean {
  const used = new Map<number, number>();
  for (const runOptions of options) {
    const { keys, loads } = runOptions[0]!;
    for (let i = 0; i < keys.length; i += 1) {
      const load = (used.get(keys[i]!) ?? 0) + loads[i]!;
      if (load > capacityOf(keys[i]!) + LOAD_TOLERANCE) return false;
      used.set(keys[i]!, load);
    }
  }
  return true;
}

/**
 * Runs grouped by shared binding buckets (where the most each offering run could put in exceeds the capacity),
 * each group sorted. A run whose offers touch no such bucket is a group of its own.
 */
function linkedComponents(
  columnsByRun: readonly RunColumns[],
  offered: readonly number[],
  capacityOf: (key: number) => number,
): { components: number[][]; binding: Set<number> } {
  const demand = new Map<number, number>();
  const touched = columnsByRun.map((columns, index) => {
    // A run's shares sum to 1, so it puts at most its largest offered load into a bucket.
    const most = new Map<number, number>();
    for (let j = 0; j < columns.chargeOffsets[offered[index]!]!; j += 1) {
      const key = columns.chargeKeys[j]!;
      most.set(key, Math.max(most.get(key) ?? 0, columns.chargeLoads[j]!));
    }
    for (const [key, load] of most) demand.set(key, (demand.get(key) ?? 0) + load);
    return [...most.keys()];
  });
  const parent = columnsByRun.map((_, index) => index);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]!]!;
    return x;
  };
  const firstRunOfBucket = new Map<number, number>();
  const binding = new Set<number>();
  touched.forEach((keys, index) => {
    for (const key of keys) {
      if ((demand.get(key) ?? 0) <= capacityOf(key) + LOAD_TOLERANCE) continue;
      binding.add(key);
      const first = firstRunOfBucket.get(key);
      if (first === undefined) firstRunOfBucket.set(key, index);
      else parent[find(index)] = find(first);
    }
  });
  const groups = new Map<number, number[]>();
  columnsByRun.forEach((_, index) => {
    const root = find(index);
    const group = groups.get(root);
    if (group) group.push(index);
    else groups.set(root, [index]);
  });
  return { components: [...groups.values()], binding };
}
