// The capacity planner's choice as it was made before the branch-and-bound search (src/scheduling/
// capacity-search.ts): every bucket-boundary start of the window on every candidate, offered in time order. Kept
// only as the reference the property test holds the product's planner to.
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
  const base = planPlacement(input);
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

  let best: Option | null = null;
  const offer = (startMs: number) => {
    for (const candidate of eligible) {
      if (!fits(candidate, occupancy, startMs, durationMs)) continue;
      const option = { candidate, startMs, mean: meanOf(candidate.zone, startMs) };
      if (best === null || better(option, best)) best = option;
    }
  };
  offer(nowMs);
  for (let bucket = bucketOf(nowMs) + 1; bucket * CAPACITY_BUCKET_MS <= latestMs; bucket += 1) {
    offer(bucket * CAPACITY_BUCKET_MS);
  }
  let horizon = -Infinity;
  for (const candidate of eligible) {
    for (const bucket of occupancy.get(candidate.id)?.keys() ?? []) horizon = Math.max(horizon, bucket + 1);
  }
  for (let bucket = bucketOf(latestMs) + 1; best === null && bucket <= horizon; bucket += 1) {
    offer(bucket * CAPACITY_BUCKET_MS);
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
