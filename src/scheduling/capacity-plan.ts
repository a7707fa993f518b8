// Placement under finite capacity over time. Pure: the ledger (PostgreSQL or memory) hands in the occupancy and
// books what this returns. Time is cut into buckets; a run adds its estimated busy time to each bucket it touches,
// and a candidate with capacity c holds at most c × bucket length of busy time per bucket (capacity-buckets.ts).
// A start also needs a free slot at every instant of the run, by the booked runs' estimates (capacity-instants.ts).
import { meanIntensityOver } from '../carbon/intensity-series.js';
import { firstFullBucket, type Occupancy } from '../shared/capacity-buckets.js';
import { clearOfFull } from '../shared/capacity-instants.js';
import {
  BUILT_IN_POLICIES,
  planPlacement,
  type PlacementCandidate,
  type PlacementInput,
  type PlacementPlan,
  type PlacementPolicy,
} from './policies.js';
import {
  type SlotOption,
  type SlotSearch,
  bestSlotWithin,
  earliestSlotAfter,
  earliestSlotBetween,
  fullPeriodsOf,
} from './capacity-search.js';
import type { ReservedSlot } from './reservation-ledger.js';
import { aimedLatestStart } from './start-margin.js';
import { isBetter } from './window-search.js';

/**
 * Whether every bucket the run touches on the candidate still has room for its busy time there, and a slot is
 * free at every instant of the run.
 */
export function fits(candidate: PlacementCandidate, occupancy: Occupancy, startMs: number, durationMs: number) {
  const { capacity } = candidate;
  if (capacity === undefined) return true;
  return (
    firstFullBucket(occupancy.busy.get(candidate.id), capacity, startMs, durationMs) === null &&
    clearOfFull(fullPeriodsOf(occupancy, candidate.id), startMs, durationMs)
  );
}

/**
 * The candidates whose occupancy planWithCapacity can depend on: all of them for a policy that moves runs, only
 * home for one that keeps runs there (its plan, search and room check never look elsewhere). A plan reads and
 * locks just these, so a home-only plan neither reads nor waits on other candidates' books.
 */
export function candidatesPlannedOn(
  input: Pick<PlacementInput, 'policy' | 'candidates' | 'homeCandidateId'>,
  policies: Readonly<Record<string, PlacementPolicy>> = BUILT_IN_POLICIES,
): string[] {
  const moves = policies[input.policy]?.movesAcrossCandidates ?? true;
  return moves ? input.candidates.map((c) => c.id) : [input.homeCandidateId];
}

export interface CapacityPlan extends PlacementPlan, ReservedSlot {
  /** The start is after the deadline because no candidate the policy may use had room before it. */
  deadlineMissed: boolean;
  /**
   * The policy itself would start now and only a full candidate moved the start later. The product then waits
   * in the slot queue, whose lanes order the waiters (a live run before queued regrades), instead of sleeping to
   * this start in booking order; the reservation still holds the feasible slot until the run claims.
   */
  waitsOnlyForRoom: boolean;
  /**
   * Where the run may go when it still waits in the slot queue at its deadline (src/shared/slot-spill.ts): the
   * other candidates the policy may use, cleanest first by the forecast over the run from its deadline (unknown
   * last). Empty for policies that keep the run at home.
   */
  spillOrder: string[];
}

/**
 * The policy's plan when its slot has room; otherwise the best feasible (candidate, start) the policy allows:
 * within the slack for delaying policies, else the earliest start with room (a full home makes `immediate-home`
 * wait). With no feasible start by the deadline, the earliest one after it, with the miss recorded.
 */
export function planWithCapacity(
  input: PlacementInput,
  occupancy: Occupancy,
  policies: Readonly<Record<string, PlacementPolicy>> = BUILT_IN_POLICIES,
): CapacityPlan {
  const aimedMs = aimedLatestStart(input, policies[input.policy]?.movesAcrossCandidates ?? true);
  const aimed = aimedMs < input.deadlineMs ? { ...input, deadlineMs: aimedMs } : input;
  const base = planPlacement(aimed, policies);
  if (aimed !== input && policies[input.policy]?.delaysWithinSlack) {
    const marginMin = Math.round((input.deadlineMs - aimedMs) / 6_000) / 10;
    base.notes.push(`aims to start by ${new Date(aimedMs).toISOString()}, ${marginMin} min before the deadline`);
  }
  const durationMs = input.estimatedDurationMs;
  if (fits(base.candidate, occupancy, base.startMs, durationMs)) {
    return finish(input, base, base.candidate.id, false, policies);
  }

  const policy = policies[input.policy] as PlacementPolicy;
  const home = input.candidates.find((c) => c.id === input.homeCandidateId) as PlacementCandidate;
  const usable = (policy.movesAcrossCandidates ? input.candidates : [home]).filter((c) => c.capacity !== 0);
  if (usable.length === 0) throw new Error(`no candidate the ${policy.name} policy may use has any capacity`);
  const basis = basisOf(input);
  // How late a start the search may take: up to the given deadline for a policy that delays, else now.
  const latestBy = (deadlineMs: number) => (policy.delaysWithinSlack ? Math.max(input.nowMs, deadlineMs) : input.nowMs);
  const search: SlotSearch = {
    eligible: usable.includes(home) ? [home, ...usable.filter((c) => c !== home)] : usable,
    occupancy,
    nowMs: input.nowMs,
    latestMs: latestBy(aimed.deadlineMs),
    durationMs,
    gridOf: (candidate) => input.forecasts.find((f) => f.zone === candidate.zone && f.basis === basis),
    better,
  };
  // With no room by the aimed start, as little of the margin is given up as room allows (the earliest start with
  // room), and the deadline only after it; past the last occupied bucket every candidate is empty, so the search
  // after the deadline ends there.
  const whole: SlotSearch = { ...search, latestMs: latestBy(input.deadlineMs) };
  const chosen =
    bestSlotWithin(search) ??
    (whole.latestMs > search.latestMs ? earliestSlotBetween(whole, search.latestMs, whole.latestMs) : null) ??
    earliestSlotAfter(whole, lastOccupiedBucket(occupancy, search.eligible) + 1);
  if (chosen === null) throw new Error('capacity search found no start although the horizon is free');
  const notes = [
    ...base.notes,
    `capacity: ${base.candidate.id} is full at ${new Date(base.startMs).toISOString()}; took the best slot with room`,
  ];
  const plan: PlacementPlan = {
    ...base,
    candidate: chosen.candidate,
    startMs: chosen.startMs,
    delayMs: chosen.startMs - input.nowMs,
    expectedIntensityGCo2PerKwh: chosen.mean,
    basis: chosen.mean === null ? null : basisOf(input),
    notes,
  };
  const waitsOnlyForRoom = base.startMs <= input.nowMs && chosen.startMs > input.nowMs;
  return finish(input, plan, chosen.candidate.id, waitsOnlyForRoom, policies);
}

function finish(
  input: PlacementInput,
  plan: PlacementPlan,
  candidateId: string,
  waitsOnlyForRoom: boolean,
  policies: Readonly<Record<string, PlacementPolicy>>,
): CapacityPlan {
  const deadlineMissed = plan.startMs > Math.max(input.deadlineMs, input.nowMs);
  if (deadlineMissed) {
    const lateMin = Math.round((plan.startMs - input.deadlineMs) / 60_000);
    plan.notes.push(`no room before the deadline on any usable candidate: starts ${lateMin} min after it`);
  }
  return {
    ...plan,
    candidateId,
    durationMs: input.estimatedDurationMs,
    deadlineMissed,
    waitsOnlyForRoom,
    spillOrder: spillOrderOf(input, candidateId, policies),
  };
}

/** The other candidates a moving policy may use, by forecast mean over the run from its deadline, lowest first. */
function spillOrderOf(
  input: PlacementInput,
  chosenId: string,
  policies: Readonly<Record<string, PlacementPolicy>>,
): string[] {
  if (!policies[input.policy]?.movesAcrossCandidates) return [];
  const basis = basisOf(input);
  const fromMs = Math.max(input.nowMs, input.deadlineMs);
  const ranked = input.candidates
    .filter((c) => c.id !== chosenId && c.capacity !== 0)
    .map((candidate, order) => {
      const grid = input.forecasts.find((f) => f.zone === candidate.zone && f.basis === basis);
      const mean = grid ? meanIntensityOver(grid, fromMs, fromMs + input.estimatedDurationMs) : null;
      return { id: candidate.id, mean: mean ?? Infinity, order };
    });
  ranked.sort((a, b) => a.mean - b.mean || a.order - b.order);
  return ranked.map((c) => c.id);
}

/** A known mean beats an unknown one; lower means win, then earlier starts; exact ties keep the earlier offer. */
function better(option: SlotOption, best: SlotOption): boolean {
  if (option.mean === null || best.mean === null) {
    if (option.mean !== best.mean) return option.mean !== null;
    return option.startMs < best.startMs;
  }
  return isBetter(option.mean, option.startMs, best.mean, best.startMs);
}

/** The same forecast choice as planPlacement: the home zone's basis, one forecast per zone. */
function basisOf(input: PlacementInput) {
  const home = input.candidates.find((c) => c.id === input.homeCandidateId);
  return (input.forecasts.find((f) => f.zone === home?.zone) ?? input.forecasts[0])?.basis ?? null;
}

function lastOccupiedBucket(occupancy: Occupancy, candidates: readonly PlacementCandidate[]): number {
  let last = -Infinity;
  for (const candidate of candidates) {
    for (const bucket of occupancy.busy.get(candidate.id)?.keys() ?? []) last = Math.max(last, bucket);
  }
  return last;
}
