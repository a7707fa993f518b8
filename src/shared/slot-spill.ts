// A run that waits in the slot queue past the time it must start spills: from shortly before its deadline it takes
// a free slot on another candidate its policy may use (the plan's spill order) instead of waiting on its full
// node. The product's claim (src/db/slot-claims.ts) and the benchmark's replay (bench/slot-queue.ts) apply this
// one rule. Pure.

/**
 * How long before its deadline a queued run may spill. A queued run claims again at its spill time (its wait's
 * timer ends there, plan-and-wait.ts) and whenever a release it may use wakes it, so a claim lands inside this lead
 * and the spilled run starts by the deadline, not up to a 5-min safety-net poll after it.
 */
export const SPILL_LEAD_MS = 60_000;

/** From when a queued run with this deadline may take a slot on another candidate. */
export const spillAtMs = (deadlineMs: number): number => deadlineMs - SPILL_LEAD_MS;
