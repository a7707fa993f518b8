// Schedules to hold the constrained oracle against: every assignment of a tiny instance, and greedy schedules.
import type { ConstrainedOracleInput } from '../../bench/constrained-oracle.js';
import type { Rng } from '../../bench/rng.js';
import { type Slot, slotsOfRun } from '../../bench/oracle-slots.js';
import { HOUR_MS } from '../../src/carbon/intensity-series.js';

function slotTable(input: ConstrainedOracleInput) {
  const slots = input.runs.map((run) => slotsOfRun(run, input.candidates, input.grids));
  const key = (slot: Slot) => `${input.candidates[slot.candidateIndex]!.id}@${slot.hour}`;
  const capacity = (slot: Slot) => input.capacity(input.candidates[slot.candidateIndex]!.id, slot.hour * HOUR_MS);
  return { slots, key, capacity };
}

/** Least total over every feasible assignment (depth-first, so only for a handful of runs); `null`: none. */
export function optimumByEnumeration(input: ConstrainedOracleInput): number | null {
  const { slots, key, capacity } = slotTable(input);
  const used = new Map<string, number>();
  let best: number | null = null;
  const visit = (runIndex: number, total: number): void => {
    if (runIndex === slots.length) {
      if (best === null || total < best) best = total;
      return;
    }
    for (const slot of slots[runIndex]!) {
      const count = used.get(key(slot)) ?? 0;
      if (count >= capacity(slot)) continue;
      used.set(key(slot), count + 1);
      visit(runIndex + 1, total + slot.gCo2);
      used.set(key(slot), count);
    }
  };
  visit(0, 0);
  return best;
}

/** Runs in a random order, each taking its cheapest slot with room left; `null` when one finds none. */
export function greedySchedule(input: ConstrainedOracleInput, rng: Rng): number | null {
  const { slots, key, capacity } = slotTable(input);
  const order = slots.map((_, index) => index);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const used = new Map<string, number>();
  let total = 0;
  for (const index of order) {
    const open = slots[index]!.filter((slot) => (used.get(key(slot)) ?? 0) < capacity(slot));
    if (open.length === 0) return null;
    const pick = open.reduce((a, b) => (b.gCo2 < a.gCo2 ? b : a));
    used.set(key(pick), (used.get(key(pick)) ?? 0) + 1);
    total += pick.gCo2;
  }
  return total;
}
