// Capacity over time is counted in buckets: the pure planner (src/scheduling/capacity-plan.ts) and both ledgers
// (PostgreSQL in src/db/, memory in bench/) must cut time and count room the same way, so both live here. Pure.
//
// A bucket counts busy time, not runs: a candidate running `capacity` runs at once has capacity × bucket length of
// run time per bucket, and each booking adds only the part of its run inside the bucket. Whole-bucket counting let
// a 1-min run hold a slot for all 5 min; busy time is the quantity the constrained oracle bounds too
// (bench/constrained-oracle.ts). Runs whose busy time fits a bucket may still overlap for a moment inside it, so
// a plan also needs a free slot at every instant of its run: capacity-instants.ts.

/** 5 min: most graders run 1–3 min, so a run's busy time lands in one or two buckets. */
export const CAPACITY_BUCKET_MS = 5 * 60_000;

/** Booked busy time (ms of run time) per candidate id and bucket index (see `bucketOf`); a missing entry is 0. */
type BusyTime = ReadonlyMap<string, ReadonlyMap<number, number>>;

/** A booked run on a candidate, by its estimate: [startMs, endMs). */
export interface BookedSpan {
  startMs: number;
  endMs: number;
}

/**
 * What a planner reads from a ledger: busy time per bucket, and per candidate with a capacity the periods in which
 * its booked runs hold every slot (capacity-instants.ts), in time order, as the ledger keeps them per bucket. A
 * ledger may leave out the periods inside a bucket with no busy time left: no start touching it has room anyway.
 */
export interface Occupancy {
  busy: BusyTime;
  full: ReadonlyMap<string, readonly BookedSpan[]>;
}

export const EMPTY_OCCUPANCY: Occupancy = { busy: new Map(), full: new Map() };

/**
 * Whether a bucket touched by `bookings` runs may hold an instant with `capacity` of them running: with fewer
 * bookings touching it, no instant inside it can be full, so its full periods need no computing.
 */
export const isCrowded = (bookings: number, capacity: number): boolean => bookings >= capacity;

export const bucketOf = (ms: number): number => Math.floor(ms / CAPACITY_BUCKET_MS);

/** A run is at least 1 ms long for counting, so even a zero estimate books something and ends in its start bucket. */
export const countedMs = (durationMs: number) => Math.max(Math.round(durationMs), 1);

/** The first and last bucket a run starting at `startMs` touches. */
export function bucketSpan(startMs: number, durationMs: number): { first: number; last: number } {
  return { first: bucketOf(startMs), last: bucketOf(startMs + countedMs(durationMs) - 1) };
}

/** Busy time (ms) a run starting at `startMs` puts into `bucket`; 0 outside its span. */
export function busyIn(bucket: number, startMs: number, durationMs: number): number {
  const from = Math.max(startMs, bucket * CAPACITY_BUCKET_MS);
  const to = Math.min(startMs + countedMs(durationMs), (bucket + 1) * CAPACITY_BUCKET_MS);
  return Math.max(0, to - from);
}

/** Busy time (ms) per bucket of the run's span, first bucket first (what a booking adds). */
export function busyByBucket(startMs: number, durationMs: number): { first: number; busyMs: number[] } {
  const { first, last } = bucketSpan(startMs, durationMs);
  const busyMs: number[] = [];
  for (let bucket = first; bucket <= last; bucket += 1) busyMs.push(busyIn(bucket, startMs, durationMs));
  return { first, busyMs };
}

/** Run time a bucket holds on a candidate that runs `capacity` runs at once. */
export const bucketCapacityMs = (capacity: number): number => capacity * CAPACITY_BUCKET_MS;

/**
 * The first bucket of the run's span that cannot take its busy time on top of `used` (booked busy ms per
 * bucket), or null when every bucket has room. `capacity` is runs at once.
 */
export function firstFullBucket(
  used: ReadonlyMap<number, number> | undefined,
  capacity: number,
  startMs: number,
  durationMs: number,
): number | null {
  const limitMs = bucketCapacityMs(capacity);
  const { first, last } = bucketSpan(startMs, durationMs);
  for (let bucket = first; bucket <= last; bucket += 1) {
    if ((used?.get(bucket) ?? 0) + busyIn(bucket, startMs, durationMs) > limitMs) return bucket;
  }
  return null;
}
