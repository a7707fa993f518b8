// Capacity in the benchmark: candidates hold `capacity` concurrent runs (undefined: unlimited). Usage is measured
// per clock hour as busy run-time ÷ the hour (the mean number of runs at once in it), the same quantity the
// constrained oracle bounds by the capacity.
import type { Submission } from './arrivals.js';

const HOUR_MS = 3_600_000;

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

  /** `share`: the part of the run placed here (the oracle's LP may split a run). */
  add(candidateId: string, startMs: number, durationMs: number, share = 1): void {
    let hours = this.#busyMs.get(candidateId);
    if (!hours) this.#busyMs.set(candidateId, (hours = new Map<number, number>()));
    for (let at = startMs, end = startMs + durationMs; at < end;) {
      const hour = Math.floor(at / HOUR_MS);
      const until = Math.min(end, (hour + 1) * HOUR_MS);
      hours.set(hour, (hours.get(hour) ?? 0) + (until - at) * share);
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
