// The options the offline optimum chooses among: each run's (candidate, clock hour) slots with their true cost.
import { HOUR_MS, type IntensityGrid } from '../src/carbon/intensity-series.js';
import { bestWindow } from '../src/scheduling/window-search.js';

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

/** A run started at `startMs` on candidate `candidateIndex`, the best start inside clock hour `hour`. */
export interface Slot {
  candidateIndex: number;
  /** Epoch hour (`floor(startMs / HOUR_MS)`): the unit capacity is counted in. */
  hour: number;
  startMs: number;
  gCo2: number;
}

/**
 * Every (candidate, hour) a run may start in, each at its cleanest start within that hour on the true trace
 * (bestWindow is exact for step functions). A slot is only offered when the whole run lies inside the trace.
 */
export function slotsOfRun(
  run: OracleRun,
  candidates: readonly OracleCandidate[],
  grids: ReadonlyMap<string, IntensityGrid>,
): Slot[] {
  if (!(run.latestStartMs >= run.earliestStartMs)) {
    throw new RangeError(`run ${run.id}: deadline ${run.latestStartMs} is before its arrival ${run.earliestStartMs}`);
  }
  if (!(run.durationMs >= 0) || !(run.energyKwh >= 0)) {
    throw new RangeError(`run ${run.id}: duration and energy must be non-negative numbers`);
  }
  const slots: Slot[] = [];
  const firstHour = Math.floor(run.earliestStartMs / HOUR_MS);
  const lastHour = Math.floor(run.latestStartMs / HOUR_MS);
  candidates.forEach((candidate, candidateIndex) => {
    const grid = grids.get(candidate.zone);
    if (!grid) throw new RangeError(`candidate ${candidate.id}: no intensity trace for zone ${candidate.zone}`);
    for (let hour = firstHour; hour <= lastHour; hour += 1) {
      const lo = Math.max(run.earliestStartMs, hour * HOUR_MS);
      // Starts are whole milliseconds; the next hour's first instant belongs to the next slot.
      const hi = Math.min(run.latestStartMs, (hour + 1) * HOUR_MS - 1);
      const choice = bestWindow(grid, lo, hi, run.durationMs);
      if (choice === null) continue;
      slots.push({ candidateIndex, hour, startMs: choice.startMs, gCo2: run.energyKwh * choice.meanGCo2PerKwh });
    }
  });
  return slots;
}
