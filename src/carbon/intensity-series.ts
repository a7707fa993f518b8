// Step-function arithmetic shared by forecasts, traces, the placement policy and accounting. Pure.

/** Values on a regular grid; value `i` holds over `[startMs + i·stepMs, startMs + (i+1)·stepMs)`. */
export interface IntensityGrid {
  startMs: number;
  stepMs: number;
  valuesGCo2PerKwh: ArrayLike<number>;
}

/** First instant after the last value of the grid. */
export function gridEndMs(grid: IntensityGrid): number {
  return grid.startMs + grid.valuesGCo2PerKwh.length * grid.stepMs;
}

/**
 * Time-weighted mean intensity over `[startMs, endMs)`, or `null` when the grid does not cover the whole
 * interval. A zero-length interval returns the value in force at `startMs`.
 */
export function meanIntensityOver(grid: IntensityGrid, startMs: number, endMs: number): number | null {
  const { startMs: origin, stepMs, valuesGCo2PerKwh: values } = grid;
  if (!(endMs >= startMs) || startMs < origin || endMs > origin + values.length * stepMs) return null;
  let index = Math.floor((startMs - origin) / stepMs);
  if (endMs === startMs) return values[Math.min(index, values.length - 1)] ?? null;
  let at = startMs;
  let weighted = 0;
  while (at < endMs) {
    const segmentEnd = Math.min(endMs, origin + (index + 1) * stepMs);
    weighted += (values[index] ?? NaN) * (segmentEnd - at);
    at = segmentEnd;
    index += 1;
  }
  const mean = weighted / (endMs - startMs);
  return Number.isFinite(mean) ? mean : null;
}

export const HOUR_MS = 3_600_000;
