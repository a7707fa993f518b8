// The node's slot queue in the replay. Bookings count busy time per bucket, so runs booked into one bucket may
// overlap for a moment; in the product the later ones wait in the slot queue (src/db/slot-claims.ts) until a slot
// frees. This replays that queue after the fact: per candidate, runs in planned-start order take the first free
// of its `capacity` slots, running their true duration. Pure.

export interface QueuedRun {
  candidateId: string;
  plannedStartMs: number;
  /** True run time (the booking holds the estimate; the slot is held for the real run). */
  durationMs: number;
}

/**
 * The start each run really gets (same order as `runs`): its planned start, or later when all the candidate's
 * slots are busy then. `capacityOf` returns undefined for an unlimited candidate (never waits).
 */
export function queuedStarts(
  runs: readonly QueuedRun[],
  capacityOf: (candidateId: string) => number | undefined,
): number[] {
  const starts = runs.map((run) => run.plannedStartMs);
  const order = runs.map((_, index) => index);
  // Planned-start order, ties in booking order: the lane queue serves the earlier waiter first.
  order.sort((a, b) => runs[a]!.plannedStartMs - runs[b]!.plannedStartMs || a - b);
  const slotsFreeAt = new Map<string, number[]>();
  for (const index of order) {
    const run = runs[index]!;
    const capacity = capacityOf(run.candidateId);
    if (capacity === undefined) continue;
    if (!(capacity >= 1)) throw new RangeError(`candidate ${run.candidateId} has no slot (capacity ${capacity})`);
    let slots = slotsFreeAt.get(run.candidateId);
    if (!slots) slotsFreeAt.set(run.candidateId, (slots = new Array<number>(capacity).fill(-Infinity)));
    let soonest = 0;
    for (let slot = 1; slot < slots.length; slot += 1) if (slots[slot]! < slots[soonest]!) soonest = slot;
    const startMs = Math.max(run.plannedStartMs, slots[soonest]!);
    slots[soonest] = startMs + run.durationMs;
    starts[index] = startMs;
  }
  return starts;
}
