// Capacity in the benchmark: candidates hold `capacity` concurrent runs (undefined: unlimited). The constrained
// oracle counts starts per clock hour, so a candidate's concurrency becomes an hourly start budget, and usage is
// measured per hour as busy run-time ÷ the hour (the mean number of runs at once in it).
import type { Submission } from './arrivals.js';

const HOUR_MS = 3_600_000;

/** Mean true run time of the year's submissions. */
function meanRunMs(submissions: readonly Submission[]): number {
  if (submissions.length === 0) throw new RangeError('no submissions');
  return submissions.reduce((sum, s) => sum + s.durationMs, 0) / submissions.length;
}

/**
 * Starts per hour a candidate with `concurrent` slots can take: an hour of each slot ÷ the mean run time of the
 * runs that may start in it (the fluid view; a run that crosses the hour's end is charged to the hour it starts
 * in). Run times differ 12-fold between assignments and a deadline hour holds mostly one assignment, hence the
 * local mean: the year's mean would let a burst of long runs overfill the hour several times. Unlimited stays
 * unlimited.
 */
export function hourlyStartBudget(
  submissions: readonly Submission[],
  slackMs: number,
): (concurrent: number | undefined, hourStartMs: number) => number {
  const fallbackMs = meanRunMs(submissions);
  const count = new Map<number, number>();
  const busy = new Map<number, number>();
  for (const s of submissions) {
    // Every hour the run may start in: from its arrival's hour to its deadline's.
    for (
      let hour = Math.floor(s.receivedMs / HOUR_MS);
      hour <= Math.floor((s.receivedMs + slackMs) / HOUR_MS);
      hour += 1
    ) {
      count.set(hour, (count.get(hour) ?? 0) + 1);
      busy.set(hour, (busy.get(hour) ?? 0) + s.durationMs);
    }
  }
  return (concurrent, hourStartMs) => {
    if (concurrent === undefined) return Infinity;
    const hour = Math.floor(hourStartMs / HOUR_MS);
    const n = count.get(hour) ?? 0;
    const meanMs = n === 0 ? fallbackMs : (busy.get(hour) ?? 0) / n;
    return Math.floor((concurrent * HOUR_MS) / meanMs);
  };
}

/** The busiest hour's work in the arrival model: run-time of the runs arriving in it ÷ the hour. */
export function peakHourlyWork(submissions: readonly Submission[]): number {
  const work = new Map<number, number>();
  for (const s of submissions) {
    const hour = Math.floor(s.receivedMs / HOUR_MS);
    work.set(hour, (work.get(hour) ?? 0) + s.durationMs);
  }
  return Math.max(0, ...work.values()) / HOUR_MS;
}

/** Busy run-time per candidate per clock hour, from runs placed anywhere in time. */
export class HourlyUsage {
  readonly #busyMs = new Map<string, Map<number, number>>();

  add(candidateId: string, startMs: number, durationMs: number): void {
    let hours = this.#busyMs.get(candidateId);
    if (!hours) this.#busyMs.set(candidateId, (hours = new Map<number, number>()));
    for (let at = startMs, end = startMs + durationMs; at < end;) {
      const hour = Math.floor(at / HOUR_MS);
      const until = Math.min(end, (hour + 1) * HOUR_MS);
      hours.set(hour, (hours.get(hour) ?? 0) + (until - at));
      at = until;
    }
  }

  /** Max over hours of (mean runs at once) ÷ capacity; `null` for an unlimited candidate or one never used. */
  peakUtilisation(candidateId: string, capacity: number | undefined): number | null {
    const hours = this.#busyMs.get(candidateId);
    if (capacity === undefined || !hours) return capacity === undefined ? null : 0;
    return Math.max(...hours.values()) / HOUR_MS / capacity;
  }
}
