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
  // Candidate starts: both ends, every boundary, and every start whose window ends on a boundary. A window no
  // longer than a step that ends on a boundary lies in one step, like the window starting on that step's
  // boundary (earlier, so it wins a tie): it only needs checking when that boundary is before `lo`.
  const starts = [lo, hi];
  const { startMs: origin, stepMs } = grid;
  const firstBoundary = origin + (Math.floor((lo - origin) / stepMs) + 1) * stepMs;
  for (let at = firstBoundary; at <= hi + durationMs; at += stepMs) {
    if (at <= hi) starts.push(at);
    if (durationMs > stepMs || at - stepMs < lo) starts.push(at - durationMs);
  }
  let bestStartMs = NaN;
  let bestMean = Infinity;
  let evaluated = 0;
  for (const startMs of starts) {
    if (startMs < lo || startMs > hi) continue;
    const mean = meanIntensityOver(grid, startMs, startMs + durationMs);
    evaluated += 1;
    if (mean !== null && (Number.isNaN(bestStartMs) || isBetter(mean, startMs, bestMean, bestStartMs))) {
      bestStartMs = startMs;
      bestMean = mean;
    }
  }
  return Number.isNaN(bestStartMs) ? null : { startMs: bestStartMs, meanGCo2PerKwh: bestMean, evaluated };
}

const RELATIVE_TIE = 1e-9;

/** Lower mean wins; means within a relative 1e-9 count as equal and the earlier start wins. */
export function isBetter(mean: number, startMs: number, bestMean: number, bestStartMs: number): boolean {
  const tolerance = RELATIVE_TIE * Math.max(1, Math.abs(bestMean));
  if (mean < bestMean - tolerance) return true;
  return mean <= bestMean + tolerance && startMs < bestStartMs;
}
