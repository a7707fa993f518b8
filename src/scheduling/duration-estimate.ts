// How long the next run of an assignment will take: the median of its recent earlier runs. Pure.

export interface DurationEstimateSettings {
  /** Used before an assignment has any finished run. */
  defaultDurationMs: number;
  /** Only the most recent runs count, so a changed autograder is picked up quickly. */
  maxSamples: number;
}

/** 5 min: most autograders finish in one to three; a guess on the long side keeps whole runs in the window. */
export const DEFAULT_DURATION_SETTINGS: DurationEstimateSettings = { defaultDurationMs: 300_000, maxSamples: 25 };

export interface DurationEstimate {
  estimatedDurationMs: number;
  basis: 'median' | 'default';
  sampleCount: number;
}

/** `earlierDurationsMs` oldest first; non-positive or non-finite entries (failed runs) are ignored. */
export function estimateDuration(
  earlierDurationsMs: readonly number[],
  settings: DurationEstimateSettings = DEFAULT_DURATION_SETTINGS,
): DurationEstimate {
  const usable = earlierDurationsMs.filter((ms) => Number.isFinite(ms) && ms > 0);
  const recent = usable.slice(Math.max(0, usable.length - settings.maxSamples)).sort((a, b) => a - b);
  if (recent.length === 0) {
    return { estimatedDurationMs: settings.defaultDurationMs, basis: 'default', sampleCount: 0 };
  }
  const middle = Math.floor(recent.length / 2);
  const median =
    recent.length % 2 === 1 ? (recent[middle] ?? 0) : ((recent[middle - 1] ?? 0) + (recent[middle] ?? 0)) / 2;
  return { estimatedDurationMs: Math.round(median), basis: 'median', sampleCount: recent.length };
}
