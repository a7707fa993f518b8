// The fewest deadline misses any schedule can have at 0-h slack, exactly. There the deadline is the arrival (the
// headline replay has no grace: deadline = received + slack), so a run starts at its arrival or misses: the only
// freedom left is which slot it runs on. The runs that start on time form a set of intervals [arrival, arrival +
// true run time) that fits the slots; a missed run may start any time later, after the year if need be, so it
// blocks nobody. The fewest misses is therefore N − the most intervals that fit, and that maximum is exact by
// greedy: take the runs by end, each onto the slot that freed last before its start (k-track interval scheduling,
// Faigle & Nawijn 1995; Carlisle & Lloyd 1995). Policies that move runs may use every candidate's slots, so
// regions are just k = Σ capacity identical slots; home-only policies use the home's capacity alone, per home.
// With any unlimited candidate in reach nothing need miss. Valid for every non-preemptive schedule, the product's
// and the constrained oracle's (a relaxation that splits runs) alike. Pure.
import type { Submission } from './arrivals.js';

/** The most runs that can start at their arrival on `slots` identical slots (Infinity: all of them). */
export function mostOnTime(runs: readonly Pick<Submission, 'receivedMs' | 'durationMs'>[], slots: number): number {
  if (!(slots >= 0)) throw new RangeError(`slots must be ≥ 0, got ${slots}`);
  if (slots === Infinity) return runs.length;
  const byEnd = runs
    .map((run) => ({ startMs: run.receivedMs, endMs: run.receivedMs + run.durationMs }))
    .sort((a, b) => a.endMs - b.endMs || b.startMs - a.startMs);
  // When each slot frees; a scan per run is enough for the few hundred slots of the settings.
  const freeAtMs: number[] = Array.from({ length: slots }, () => -Infinity);
  let onTime = 0;
  for (const run of byEnd) {
    let best = -1;
    for (let slot = 0; slot < freeAtMs.length; slot++) {
      // Half-open: a slot that frees at the instant takes the run starting at it, as the slot queue does.
      if (freeAtMs[slot]! <= run.startMs && (best < 0 || freeAtMs[slot]! > freeAtMs[best]!)) best = slot;
    }
    if (best < 0) continue;
    freeAtMs[best] = run.endMs;
    onTime += 1;
  }
  return onTime;
}

/** Fewest misses at 0-h slack, for runs that may use every candidate, and per home for runs kept at home. */
export interface FewestMissesAtZeroSlack {
  anywhere: number;
  atHome: Record<string, number>;
}

export function fewestMissesAtZeroSlack(
  candidates: readonly { id: string; capacity?: number }[],
  runs: readonly Pick<Submission, 'receivedMs' | 'durationMs'>[],
): FewestMissesAtZeroSlack {
  const slotsOf = (capacity: number | undefined) => capacity ?? Infinity;
  const total = candidates.reduce((sum, c) => sum + slotsOf(c.capacity), 0);
  return {
    anywhere: runs.length - mostOnTime(runs, total),
    atHome: Object.fromEntries(candidates.map((c) => [c.id, runs.length - mostOnTime(runs, slotsOf(c.capacity))])),
  };
}
