// Finds the start whose run window has the lowest mean intensity on one zone's forecast. Pure.
import { type IntensityGrid, gridEndMs, meanIntensityOver } from '../carbon/intensity-series.js';

export interface WindowChoice {
  startMs: number;
  meanGCo2PerKwh: number;
  /** Start instants evaluated, for the plan record. */
  evaluated: number;
}

/**
 * Lowest mean intensity over `[s, s + durationMs)` for `s` in `[earliestMs, latestMs]`, ties to the earliest `s`.
 * The mean of a step function over a sliding window only changes slope where the window's start or end crosses a
 * step boundary, so checking those starts plus both ends finds the exact minimum. Starts whose window leaves the
 * grid are not considered; `null` when none remains.
 */
export function bestWindow(
  grid: IntensityGrid,
  earliestMs: number,
  latestMs: number,
  durationMs: number,
): WindowChoice | null {
  const lo = Math.max(earliestMs, grid.startMs);
  const hi = Math.min(latestMs, gridEndMs(grid) - durationMs);
  if (hi < lo) return null;
  const { startMs: origin, stepMs, valuesGCo2PerKwh: values } = grid;
  const best: WindowChoice = { startMs: NaN, meanGCo2PerKwh: Infinity, evaluated: 0 };
  offer(best, lo, meanIntensityOver(grid, lo, lo + durationMs));
  // Besides both ends, only starts on a boundary or windows ending on one can be optimal. A window no longer
  // than a step that starts on a boundary lies inside that step, so its mean is the step's value; one that ends
  // on a boundary equals the window starting on the step's boundary (earlier, so that one wins a tie) unless
  // that boundary is before `lo`.
  const short = durationMs <= stepMs;
  for (let index = Math.floor((lo - origin) / stepMs) + 1; ; index += 1) {
    const boundary = origin + index * stepMs;
    if (boundary > hi + durationMs) break;
    if (boundary <= hi) {
      offer(best, boundary, short ? (values[index] ?? null) : meanIntensityOver(grid, boundary, boundary + durationMs));
    }
    const endingHere = boundary - durationMs;
    if (endingHere >= lo && endingHere <= hi && (!short || boundary - stepMs < lo)) {
      offer(best, endingHere, meanIntensityOver(grid, endingHere, boundary));
    }
  }
  if (hi > lo) offer(best, hi, meanIntensityOver(grid, hi, hi + durationMs));
  return Number.isNaN(best.startMs) ? null : best;
}

function offer(best: WindowChoice, startMs: number, mean: number | null): void {
  best.evaluated += 1;
  if (mean === null) return;
  if (Number.isNaN(best.startMs) || isBetter(mean, startMs, best.meanGCo2PerKwh, best.startMs)) {
    best.startMs = startMs;
    best.meanGCo2PerKwh = mean;
  }
}

const RELATIVE_TIE = 1e-9;

/** Lower mean wins; means within a relative 1e-9 count as equal and the earlier start wins. */
export function isBetter(mean: number, startMs: number, bestMean: number, bestStartMs: number): boolean {
  const tolerance = RELATIVE_TIE * Math.max(1, Math.abs(bestMean));
  if (mean < bestMean - tolerance) return true;
  return mean <= bestMean + tolerance && startMs < bestStartMs;
}
