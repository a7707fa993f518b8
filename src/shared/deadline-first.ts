// Deadline-first service in the slot queue. Within a lane, waiting runs take the lane's free slots earliest
// deadline first (ties, and runs without a deadline, last, in claim order); expedited runs still go first, in the
// order they were expedited, and the lanes keep their weighted-fair shares: only which run of a lane takes the
// lane's turn changes. A run with slack is never starved: only runs due before it go first, and no run arriving
// after its deadline can be due before it. The product's claim (src/db/slot-service-order.ts, in SQL) and the
// benchmark's replay (bench/slot-queue.ts) apply this rule. The replay also measures the variant that serves a
// run ahead only from its spill time (`deadline-first`); plain EDF missed fewer deadlines (README, capacity). Pure.
import { spillAtMs } from './slot-spill.js';

/** Whether a waiting run with this deadline (null: none) is at or past its spill time at `nowMs`. */
export const pastSpillTime = (deadlineMs: number | null, nowMs: number): boolean =>
  deadlineMs !== null && nowMs >= spillAtMs(deadlineMs);

/**
 * Which of two waiting runs of one lane takes the lane's next turn: negative `a`, positive `b`, 0 when the claim
 * order decides (same deadline, or neither has one).
 */
export function compareWithinLane(a: { deadlineMs: number | null }, b: { deadlineMs: number | null }): number {
  if (a.deadlineMs === b.deadlineMs) return 0;
  if (a.deadlineMs === null) return 1;
  if (b.deadlineMs === null) return -1;
  return a.deadlineMs - b.deadlineMs;
}
