// The capacity planner's choice as it was made before the branch-and-bound search (src/scheduling/
// capacity-search.ts): every bucket-boundary start of the window on every candidate, and every instant a full
// period ends (src/shared/capacity-instants.ts), offered in time order. Kept only as the reference the property
// test holds the product's planner to.
import { meanIntensityOver } from '../../src/carbon/intensity-series.js';
import { CAPACITY_BUCKET_MS, bucketOf, type Occupancy } from '../../src/shared/capacity-buckets.js';
import {
  BUILT_IN_POLICIES,
  planPlacement,
  type PlacementCandidate,
  type PlacementInput,
  type PolicyName,
} from '../../src/scheduling/policies.js';
import { fits } from '../../src/scheduling/capacity-plan.js';
import { isBetter } from '../../src/scheduling/window-search.js';

export interface ReferenceChoice {
  candidateId: string;
  startMs: number;
  mean: number | null;
}

interface Option {
  candidate: PlacementCandidate;
  startMs: number;
  mean: number | null;
}

/** The policy's slot when it has room, else the best option found by offering every start; null: none found. */
export function referenceChoice(input: PlacementInput, occupancy: Occupancy): ReferenceChoice | null {
  // The window first ends at the aimed start (the margin, when a candidate the policy may use has finite
  // capacity), then at the deadline.
  const moves = BUILT_IN_POLICIES[input.policy as PolicyName].movesAcrossCandidates;
  const limited = input.candidates.some(
    (c) => (moves || c.id === input.homeCandidateId) && c.capacity !== undefined && c.capacity > 0,
  );
  const margin = input.startMarginMs ?? 0;
  const aimedMs = limited && margin > 0 ? Math.max(input.nowMs, input.deadlineMs - margin) : input.deadlineMs;
  const base = planPlacement({ ...input, deadlineMs: Math.min(input.deadlineMs, aimedMs) });
  const durationMs = input.estimatedDurationMs;
  if (fits(base.candidate, occupancy, base.startMs, durationMs)) {
    return { candidateId: base.candidate.id, startMs: base.startMs, mean: base.expectedIntensityGCo2PerKwh };
  }
  const policy = BUILT_IN_POLICIES[input.policy as PolicyName];
  const home = input.candidates.find((c) => c.id === input.homeCandidateId) as PlacementCandidate;
  const usable = (policy.movesAcrossCandidates ? input.candidates : [home]).filter((c) => c.capacity !== 0);
  const eligible = usable.includes(home) ? [home, ...usable.filter((c) => c !== home)] : usable;
  const home0 = input.forecasts.find((f) => f.zone === home.zone) ?? input.forecasts[0];
  const basis = home0?.basis ?? null;
  const meanOf = (zone: string, startMs: number) => {
    const forecast = input.forecasts.find((f) => f.zone === zone && f.basis === basis);
    return forecast ? meanIntensityOver(forecast, startMs, startMs + durationMs) : null;
  };
  const { nowMs } = input;
  const latestMs = policy.delaysWithinSlack ? Math.max(nowMs, input.deadlineMs) : nowMs;
  const aimedLatestMs = policy.delaysWithinSlack ? Math.max(nowMs, Math.min(input.deadlineMs, aimedMs)) : nowMs;

  let best: Option | null = null;
  // Per candidate, its offered starts: now, every bucket boundary, and every instant one of its full periods ends.
  const freeingOf = (c: PlacementCandidate) =>
    c.capacity === undefined ? [] : (occupancy.full.get(c.id) ?? []).map((p) => p.endMs);
  const pairs = (afterMs: number, untilMs: number) => {
    const list: Array<{ startMs: number; order: number }> = [];
    eligible.forEach((candidate, order) => {
      const starts = new Set(freeingOf(candidate).filter((ms) => ms > afterMs && ms <= untilMs));
      for (let bucket = bucketOf(afterMs) + 1; bucket * CAPACITY_BUCKET_MS <= untilMs; bucket += 1) {
        starts.add(bucket * CAPACITY_BUCKET_MS);
      }
      for (const startMs of starts) list.push({ startMs, order });
    });
    return list.sort((a, b) => a.startMs - b.startMs || a.order - b.order);
  };
  const offer = (startMs: number, candidate: PlacementCandidate) => {
    if (!fits(candidate, occupancy, startMs, durationMs)) return;
    const option = { candidate, startMs, mean: meanOf(candidate.zone, startMs) };
    if (best === null || better(option, best)) best = option;
  };
  for (const candidate of eligible) offer(nowMs, candidate);
  for (const { startMs, order } of pairs(nowMs, aimedLatestMs)) offer(startMs, eligible[order]!);
  // No room by the aimed start: the earliest start with room up to the deadline, the best candidate there.
  let marginFound: number | null = null;
  for (const { startMs, order } of best === null ? pairs(aimedLatestMs, latestMs) : []) {
    if (marginFound !== null && startMs > marginFound) break;
    offer(startMs, eligible[order]!);
    if (best !== null) marginFound = startMs;
  }
  let horizon = -Infinity;
  for (const candidate of eligible) {
    for (const bucket of occupancy.busy.get(candidate.id)?.keys() ?? []) horizon = Math.max(horizon, bucket + 1);
  }
  let firstFound: number | null = null;
  const afterWindow = best === null ? pairs(latestMs, horizon * CAPACITY_BUCKET_MS) : [];
  for (const { startMs, order } of afterWindow) {
    if (firstFound !== null && startMs > firstFound) break;
    offer(startMs, eligible[order]!);
    if (best !== null) firstFound = startMs;
  }
  const chosen = best as Option | null;
  return chosen && { candidateId: chosen.candidate.id, startMs: chosen.startMs, mean: chosen.mean };
}

function better(option: Option, best: Option): boolean {
  if (option.mean === null || best.mean === null) {
    if (option.mean !== best.mean) return option.mean !== null;
    return option.startMs < best.startMs;
  }
  return isBetter(option.mean, option.startMs, best.mean, best.startMs);
}
