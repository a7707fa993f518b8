// Capacity over time is counted in buckets: the pure planner (src/scheduling/capacity-plan.ts) and both ledgers
// (PostgreSQL in src/db/, memory in bench/) must cut time the same way. Pure.

/** 5 min: most graders run 1–3 min, so a run rarely holds a slot for more than two buckets. */
export const CAPACITY_BUCKET_MS = 5 * 60_000;

/** Reserved runs per candidate id and bucket index (see `bucketOf`); a missing entry is 0. */
export type Occupancy = ReadonlyMap<string, ReadonlyMap<number, number>>;

export const bucketOf = (ms: number): number => Math.floor(ms / CAPACITY_BUCKET_MS);

/** The first and last bucket a run starting at `startMs` touches. */
export function bucketSpan(startMs: number, durationMs: number): { first: number; last: number } {
  return { first: bucketOf(startMs), last: bucketOf(startMs + Math.max(durationMs, 1) - 1) };
}
