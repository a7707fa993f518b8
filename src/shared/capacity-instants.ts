// Capacity at an instant: a start needs a free slot at every instant of its run, not only busy time left in its
// buckets (capacity-buckets.ts), or the node's slot queue holds it back past its planned start. Pure, shared by the
// planner (src/scheduling/) and both ledgers. The ledgers keep each bucket's full periods up to date as runs are
// booked and freed (the PostgreSQL ledger in SQL, migrations 0014–0015, checked against the pure rule by
// test/integration/full-periods.test.ts), so a plan reads a few periods per bucket instead of every booked run.
import { type BookedSpan, CAPACITY_BUCKET_MS, countedMs, isCrowded } from './capacity-buckets.js';

/**
 * The maximal periods in which at least `capacity` of the spans run at once, in time order. Half-open: a run
 * ending at t frees its slot for one starting at t.
 */
export function fullPeriods(spans: readonly BookedSpan[], capacity: number): BookedSpan[] {
  if (spans.length < capacity) return [];
  const starts = spans.map((span) => span.startMs).sort((a, b) => a - b);
  const ends = spans.map((span) => span.endMs).sort((a, b) => a - b);
  const periods: BookedSpan[] = [];
  let running = 0;
  let fullSince: number | null = null;
  let s = 0;
  let e = 0;
  while (s < starts.length) {
    // Ends first at equal instants (half-open spans).
    if (ends[e]! <= starts[s]!) {
      running -= 1;
      if (fullSince !== null && running < capacity) {
        if (ends[e]! > fullSince) periods.push({ startMs: fullSince, endMs: ends[e]! });
        fullSince = null;
      }
      e += 1;
    } else {
      running += 1;
      if (fullSince === null && running >= capacity) {
        // A run starting the instant another ends keeps the slots full: one period, not two touching ones.
        const last = periods[periods.length - 1];
        fullSince = last?.endMs === starts[s] ? (periods.pop() as BookedSpan).startMs : starts[s]!;
      }
      s += 1;
    }
  }
  // Every start is in: the period ends at the end that takes the count below capacity.
  if (fullSince !== null) periods.push({ startMs: fullSince, endMs: ends[ends.length - capacity]! });
  return periods;
}

/** Index of the first period (time order) that ends after `ms`; `periods.length` when none does. */
function firstEndingAfter(periods: readonly BookedSpan[], ms: number): number {
  let low = 0;
  let high = periods.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (periods[mid]!.endMs > ms) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Whether a run of `durationMs` starting at `startMs` has a free slot at every instant: it meets no full period. */
export function clearOfFull(periods: readonly BookedSpan[], startMs: number, durationMs: number): boolean {
  const next = periods[firstEndingAfter(periods, startMs)];
  return next === undefined || next.startMs >= startMs + countedMs(durationMs);
}

/**
 * The instants in (afterMs, untilMs] where a full period ends, ascending: the earliest a run blocked by it can
 * start, so the planner offers them besides bucket boundaries.
 */
export function freeingInstants(periods: readonly BookedSpan[], afterMs: number, untilMs: number): number[] {
  const instants: number[] = [];
  for (let i = firstEndingAfter(periods, afterMs); i < periods.length && periods[i]!.endMs <= untilMs; i += 1) {
    instants.push(periods[i]!.endMs);
  }
  return instants;
}

/**
 * The full periods inside one bucket: those of the runs touching it (all of them, so the count at every instant
 * of the bucket is exact), cut to the bucket. Empty unless as many runs as slots touch it (`isCrowded`).
 */
export function fullPeriodsInBucket(spans: readonly BookedSpan[], capacity: number, bucket: number): BookedSpan[] {
  if (capacity < 1 || !isCrowded(spans.length, capacity)) return [];
  const from = bucket * CAPACITY_BUCKET_MS;
  const to = from + CAPACITY_BUCKET_MS;
  const inside = spans.map((span) => ({ startMs: Math.max(span.startMs, from), endMs: Math.min(span.endMs, to) }));
  return fullPeriods(
    inside.filter((span) => span.endMs > span.startMs),
    capacity,
  );
}

/**
 * A candidate's full periods from its buckets' (in bucket order): a period running over a bucket boundary is cut
 * there in each bucket, so touching pieces join again.
 */
export function joinBucketPeriods(perBucket: Iterable<readonly BookedSpan[]>): BookedSpan[] {
  const joined: BookedSpan[] = [];
  for (const periods of perBucket) {
    for (const period of periods) {
      const last = joined[joined.length - 1];
      if (last?.endMs === period.startMs) last.endMs = period.endMs;
      else joined.push({ startMs: period.startMs, endMs: period.endMs });
    }
  }
  return joined;
}
