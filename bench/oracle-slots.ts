// The columns the offline optimum chooses among: for each run, starts on each candidate with their true emissions
// and the busy time they charge to each capacity bucket (candidate, clock hour by default).
//
// Why these starts: on a step-function trace, a run's emissions and the busy time it puts into each bucket are
// both piecewise linear in its start, with breakpoints only where the start or the end crosses a trace step or a
// bucket boundary. Any start in the window is therefore a convex combination of the two breakpoints around it,
// with the same emissions and the same busy time per bucket: every real schedule is a mix of these columns, so the
// LP over them is a relaxation of every real schedule (its optimum is a lower bound on emissions).
import { HOUR_MS, type IntensityGrid, gridEndMs, meanIntensityOver } from '../src/carbon/intensity-series.js';

/** One run as the oracle sees it: its true duration and energy, and the start window its deadline allows. */
export interface OracleRun {
  id: number;
  /** Arrival: the run may not start before. */
  earliestStartMs: number;
  /** Deadline: latest allowed start (inclusive). */
  latestStartMs: number;
  durationMs: number;
  energyKwh: number;
}

export interface OracleCandidate {
  id: string;
  zone: string;
}

/** Thrown when a run has no start in its window whose whole run lies inside its candidates' traces. */
export class UncoveredRunError extends Error {
  override name = 'UncoveredRunError';
}

/**
 * One run's in-window columns, cheapest first (ties: earlier start, then candidate order), as parallel arrays.
 * Column `i` charges `chargeLoads[j]` (busy time ÷ bucket length) to bucket key `chargeKeys[j]` for `j` in
 * `[chargeOffsets[i], chargeOffsets[i + 1])`. A bucket's key is bucket index × candidates + candidate index.
 */
export interface RunColumns {
  candidates: Int32Array;
  startsMs: Float64Array;
  costs: Float64Array;
  chargeOffsets: Int32Array;
  chargeKeys: Int32Array;
  chargeLoads: Float64Array;
  /** Emissions if the run misses its deadline: started at the first instant after it, on the cleanest candidate. */
  lateCost: number;
}

/** Costs this close (relative) count as equal when merging columns with the same charges. */
const SAME_COST = 1e-12;

export function columnsOfRun(
  run: OracleRun,
  candidates: readonly OracleCandidate[],
  grids: ReadonlyMap<string, IntensityGrid>,
  bucketMs: number = HOUR_MS,
): RunColumns {
  if (!(run.latestStartMs >= run.earliestStartMs)) {
    throw new RangeError(`run ${run.id}: deadline ${run.latestStartMs} is before its arrival ${run.earliestStartMs}`);
  }
  if (!(run.durationMs >= 0) || !(run.energyKwh >= 0)) {
    throw new RangeError(`run ${run.id}: duration and energy must be non-negative numbers`);
  }
  const n = candidates.length;
  const columns: { candidate: number; startMs: number; cost: number; keys: number[]; loads: number[] }[] = [];
  let lateCost = Infinity;
  candidates.forEach((candidate, candidateIndex) => {
    const grid = grids.get(candidate.zone);
    if (!grid) throw new RangeError(`candidate ${candidate.id}: no intensity trace for zone ${candidate.zone}`);
    const late = meanIntensityOver(grid, run.latestStartMs + 1, run.latestStartMs + 1 + run.durationMs);
    if (late !== null) lateCost = Math.min(lateCost, run.energyKwh * late);
    let previous: (typeof columns)[number] | undefined;
    for (const startMs of breakpoints(run, grid, bucketMs)) {
      const mean = meanIntensityOver(grid, startMs, startMs + run.durationMs);
      if (mean === null) continue;
      const { buckets, loads } = busyByBucket(startMs, run.durationMs, bucketMs);
      const keys = buckets.map((bucket) => bucket * n + candidateIndex);
      const column = { candidate: candidateIndex, startMs, cost: run.energyKwh * mean, keys, loads };
      // A start that differs from the previous one in neither emissions nor charges adds nothing to the LP.
      if (previous && sameColumn(previous, column)) continue;
      columns.push(column);
      previous = column;
    }
  });
  if (columns.length === 0) {
    throw new UncoveredRunError(`run ${run.id}: no start in its window has the whole run inside the trace`);
  }
  columns.sort((a, b) => a.cost - b.cost || a.startMs - b.startMs || a.candidate - b.candidate);
  const chargeOffsets = new Int32Array(columns.length + 1);
  columns.forEach((column, i) => (chargeOffsets[i + 1] = chargeOffsets[i]! + column.keys.length));
  return {
    candidates: Int32Array.from(columns, (c) => c.candidate),
    startsMs: Float64Array.from(columns, (c) => c.startMs),
    costs: Float64Array.from(columns, (c) => c.cost),
    chargeOffsets,
    chargeKeys: Int32Array.from(columns.flatMap((c) => c.keys)),
    chargeLoads: Float64Array.from(columns.flatMap((c) => c.loads)),
    // Past the end of every trace: the costliest in-window start stands in.
    lateCost: Number.isFinite(lateCost) ? lateCost : Math.max(...columns.map((c) => c.cost)),
  };
}

/** Both ends of the window (clipped to the trace) and every start where the start or end crosses a boundary. */
function breakpoints(run: OracleRun, grid: IntensityGrid, bucketMs: number): number[] {
  const lo = Math.max(run.earliestStartMs, grid.startMs);
  const hi = Math.min(run.latestStartMs, gridEndMs(grid) - run.durationMs);
  if (hi < lo) return [];
  const starts = new Set([lo, hi]);
  for (const [origin, step] of [
    [0, bucketMs],
    [grid.startMs, grid.stepMs],
  ] as const) {
    for (const shift of [0, run.durationMs]) {
      // Boundaries b with lo < b − shift < hi.
      for (let b = origin + (Math.floor((lo + shift - origin) / step) + 1) * step; b - shift < hi; b += step) {
        starts.add(b - shift);
      }
    }
  }
  return [...starts].sort((a, b) => a - b);
}

/** Busy time of `[startMs, startMs + durationMs)` in each bucket it touches, in bucket lengths. */
function busyByBucket(startMs: number, durationMs: number, bucketMs: number): { buckets: number[]; loads: number[] } {
  const buckets: number[] = [];
  const loads: number[] = [];
  for (let at = startMs, end = startMs + durationMs; at < end;) {
    const bucket = Math.floor(at / bucketMs);
    const until = Math.min(end, (bucket + 1) * bucketMs);
    buckets.push(bucket);
    loads.push((until - at) / bucketMs);
    at = until;
  }
  return { buckets, loads };
}

function sameColumn(
  a: { cost: number; keys: number[]; loads: number[] },
  b: { cost: number; keys: number[]; loads: number[] },
): boolean {
  return (
    Math.abs(a.cost - b.cost) <= SAME_COST * Math.max(a.cost, b.cost) &&
    a.keys.length === b.keys.length &&
    a.keys.every((key, i) => key === b.keys[i] && a.loads[i] === b.loads[i])
  );
}
