// What the planner's read (greengrader_occupancy_since, migrations 0015–0016) must hold as full periods, by the
// pure rule over every booked run: their full periods, less the parts inside buckets with no busy time left, which
// the read leaves out since no start touching such a bucket has room whatever they are.
import {
  type BookedSpan,
  bucketCapacityMs,
  bucketOf,
  busyByBucket,
  CAPACITY_BUCKET_MS,
  countedMs,
} from '../../src/shared/capacity-buckets.js';
import { fullPeriods, joinBucketPeriods } from '../../src/shared/capacity-instants.js';

/** The periods without their parts in buckets whose busy time (`busy`, ms per bucket) fills `capacity` slots. */
export function withoutSaturatedBuckets(
  periods: readonly BookedSpan[],
  busy: ReadonlyMap<number, number> | undefined,
  capacity: number,
): BookedSpan[] {
  const pieces: BookedSpan[][] = [];
  for (const period of periods) {
    for (let bucket = bucketOf(period.startMs); bucket * CAPACITY_BUCKET_MS < period.endMs; bucket += 1) {
      if ((busy?.get(bucket) ?? 0) >= bucketCapacityMs(capacity)) continue;
      const startMs = Math.max(period.startMs, bucket * CAPACITY_BUCKET_MS);
      pieces.push([{ startMs, endMs: Math.min(period.endMs, (bucket + 1) * CAPACITY_BUCKET_MS) }]);
    }
  }
  return joinBucketPeriods(pieces);
}

/** Per candidate with a capacity, the full periods the read must hold for these booked runs (none: no entry). */
export function expectedFullPeriods(
  booked: ReadonlyArray<{ candidateId: string; startAt: Date; durationMs: number }>,
  capacities: ReadonlyMap<string, number>,
): Map<string, BookedSpan[]> {
  const expected = new Map<string, BookedSpan[]>();
  for (const [candidateId, capacity] of capacities) {
    const runs = booked.filter((row) => row.candidateId === candidateId);
    const busy = new Map<number, number>();
    for (const row of runs) {
      const { first, busyMs } = busyByBucket(row.startAt.getTime(), row.durationMs);
      busyMs.forEach((ms, i) => busy.set(first + i, (busy.get(first + i) ?? 0) + ms));
    }
    const spans = runs.map((row) => ({
      startMs: row.startAt.getTime(),
      endMs: row.startAt.getTime() + countedMs(row.durationMs),
    }));
    const periods = withoutSaturatedBuckets(fullPeriods(spans, capacity), busy, capacity);
    if (periods.length > 0) expected.set(candidateId, periods);
  }
  return expected;
}
