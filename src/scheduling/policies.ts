// Named, pluggable placement policies and the one pure function that applies them. No I/O: workflows may
// import this file. Times are epoch milliseconds.
import { meanIntensityOver } from '../carbon/intensity-series.js';
import type { IntensityBasis, ZoneForecast } from '../carbon/provider.js';
import { type WindowChoice, bestWindow, isBetter } from './window-search.js';

export interface PlacementCandidate {
  id: string;
  kind: 'docker-node' | 'k8s-region';
  region: string;
  /** Carbon zone of the region, from the regions config. */
  zone: string;
  /** Runs it can take now; a candidate with none is skipped by the moving policies. */
  freeSlots: number;
  /** Concurrent runs it holds over time (reservations, see capacity-plan.ts); undefined = unlimited. */
  capacity?: number;
}

/** What a policy may do: move the run to another candidate, delay it within its slack, or both. */
export interface PlacementPolicy {
  name: string;
  description: string;
  movesAcrossCandidates: boolean;
  delaysWithinSlack: boolean;
}

export type PolicyName = 'immediate-home' | 'spatial' | 'temporal' | 'spatiotemporal';

export const BUILT_IN_POLICIES: Readonly<Record<PolicyName, PlacementPolicy>> = {
  'immediate-home': {
    name: 'immediate-home',
    description: 'static placement at home, no delay (the baseline)',
    movesAcrossCandidates: false,
    delaysWithinSlack: false,
  },
  spatial: {
    name: 'spatial',
    description: 'cleanest candidate now',
    movesAcrossCandidates: true,
    delaysWithinSlack: false,
  },
  temporal: {
    name: 'temporal',
    description: 'cleanest start at home within the slack',
    movesAcrossCandidates: false,
    delaysWithinSlack: true,
  },
  spatiotemporal: {
    name: 'spatiotemporal',
    description: 'cleanest (candidate, start) within the slack',
    movesAcrossCandidates: true,
    delaysWithinSlack: true,
  },
};

export interface PlacementInput {
  /** A key of `policies` (the built-ins unless a registry is passed). */
  policy: string;
  candidates: readonly PlacementCandidate[];
  homeCandidateId: string;
  nowMs: number;
  /** Latest allowed start (see `computeDeadline`); at or before `nowMs` means run now. */
  deadlineMs: number;
  estimatedDurationMs: number;
  /**
   * On finite capacity, how long before the deadline the plan aims to start (start-margin.ts); with no room by
   * then it gives up as little of the margin as room allows, never the deadline first. Absent: none.
   */
  startMarginMs?: number;
  /** Forecasts by zone; zones without one are not considered. Empty means carbon-agnostic. */
  forecasts: readonly ZoneForecast[];
}

export interface PlacementPlan {
  policy: string;
  candidate: PlacementCandidate;
  startMs: number;
  delayMs: number;
  /** Forecast mean over `[startMs, startMs + estimatedDurationMs)`; `null` when the plan is carbon-agnostic. */
  expectedIntensityGCo2PerKwh: number | null;
  /** Forecast mean at home starting now (what `immediate-home` expects); `null` when unknown. */
  expectedHomeNowIntensityGCo2PerKwh: number | null;
  basis: IntensityBasis | null;
  forecastSources: string[];
  /** Set when the policy could not make its carbon-aware choice and fell back to home, now. */
  fallbackReason: string | null;
  /** What limited the choice: zones without forecast, a horizon shorter than the slack, full candidates. */
  notes: string[];
  optionsEvaluated: number;
}

/** Picks the (candidate, start) with the lowest forecast mean intensity over the whole run that meets the deadline. */
export function planPlacement(
  input: PlacementInput,
  policies: Readonly<Record<string, PlacementPolicy>> = BUILT_IN_POLICIES,
): PlacementPlan {
  const policy = policies[input.policy];
  if (!policy) throw new Error(`unknown placement policy "${input.policy}"`);
  const home = input.candidates.find((candidate) => candidate.id === input.homeCandidateId);
  if (!home) throw new Error(`home candidate "${input.homeCandidateId}" is not among the candidates`);
  const { nowMs, estimatedDurationMs: durationMs } = input;
  const notes: string[] = [];
  if (input.deadlineMs < nowMs) notes.push('deadline already passed: start now');
  const latestMs = policy.delaysWithinSlack ? Math.max(nowMs, input.deadlineMs) : nowMs;

  const basis = (input.forecasts.find((f) => f.zone === home.zone) ?? input.forecasts[0])?.basis ?? null;
  const byZone = new Map<string, ZoneForecast>();
  for (const forecast of input.forecasts) {
    if (forecast.basis === basis && !byZone.has(forecast.zone)) byZone.set(forecast.zone, forecast);
    else if (forecast.basis !== basis)
      notes.push(`ignored ${forecast.basis} forecast of ${forecast.zone}: plan uses ${basis}`);
  }
  const homeForecast = byZone.get(home.zone);
  const context: PlanContext = {
    policy: policy.name,
    nowMs,
    homeNow: homeForecast ? meanIntensityOver(homeForecast, nowMs, nowMs + durationMs) : null,
    basis,
    forecastSources: distinctSources(byZone),
    notes,
    optionsEvaluated: 0,
  };
  if (byZone.size === 0) return makePlan(context, home, nowMs, null, 'no carbon forecast: carbon-agnostic, home now');

  const eligible = policy.movesAcrossCandidates ? input.candidates.filter((c) => c.freeSlots > 0) : [home];
  if (eligible.length < (policy.movesAcrossCandidates ? input.candidates.length : 1)) {
    const full = input.candidates.filter((c) => c.freeSlots <= 0).map((c) => c.id);
    notes.push(`no free slot: ${full.join(', ')}`);
  }
  if (eligible.length === 0) {
    return makePlan(context, home, nowMs, context.homeNow, 'no candidate has a free slot: home now');
  }
  const ordered = eligible.includes(home) ? [home, ...eligible.filter((c) => c !== home)] : eligible;
  const zoneChoices = new Map<string, WindowChoice | null>();
  let best: { candidate: PlacementCandidate; startMs: number; mean: number } | null = null;
  for (const candidate of ordered) {
    let choice = zoneChoices.get(candidate.zone);
    if (choice === undefined) {
      choice = chooseInZone(byZone.get(candidate.zone), candidate.zone, nowMs, latestMs, durationMs, notes);
      context.optionsEvaluated += choice?.evaluated ?? 0;
      zoneChoices.set(candidate.zone, choice);
    }
    if (choice === null) continue;
    // Equal options: home first, then the candidate with more free slots, then input order.
    const tied =
      best !== null &&
      !isBetter(choice.meanGCo2PerKwh, choice.startMs, best.mean, best.startMs) &&
      !isBetter(best.mean, best.startMs, choice.meanGCo2PerKwh, choice.startMs);
    if (
      best === null ||
      isBetter(choice.meanGCo2PerKwh, choice.startMs, best.mean, best.startMs) ||
      (tied && best.candidate !== home && candidate.freeSlots > best.candidate.freeSlots)
    ) {
      best = { candidate, startMs: choice.startMs, mean: choice.meanGCo2PerKwh };
    }
  }
  if (best === null) {
    const reason = 'no forecast covers a run window before the deadline: home now';
    return makePlan(context, home, nowMs, context.homeNow, reason);
  }
  return makePlan(context, best.candidate, best.startMs, best.mean, null);
}

interface PlanContext {
  policy: string;
  nowMs: number;
  homeNow: number | null;
  basis: IntensityBasis | null;
  forecastSources: string[];
  notes: string[];
  optionsEvaluated: number;
}

function makePlan(
  context: PlanContext,
  candidate: PlacementCandidate,
  startMs: number,
  mean: number | null,
  fallbackReason: string | null,
): PlacementPlan {
  return {
    policy: context.policy,
    candidate,
    startMs,
    delayMs: startMs - context.nowMs,
    expectedIntensityGCo2PerKwh: mean,
    expectedHomeNowIntensityGCo2PerKwh: context.homeNow,
    basis: mean === null ? null : context.basis,
    forecastSources: context.forecastSources,
    fallbackReason,
    notes: context.notes,
    optionsEvaluated: context.optionsEvaluated,
  };
}

function distinctSources(byZone: ReadonlyMap<string, ZoneForecast>): string[] {
  const sources: string[] = [];
  for (const forecast of byZone.values()) if (!sources.includes(forecast.source)) sources.push(forecast.source);
  return sources;
}

function chooseInZone(
  forecast: ZoneForecast | undefined,
  zone: string,
  nowMs: number,
  latestMs: number,
  durationMs: number,
  notes: string[],
): WindowChoice | null {
  if (!forecast) {
    notes.push(`no forecast for ${zone}`);
    return null;
  }
  const choice = bestWindow(forecast, nowMs, latestMs, durationMs);
  const knownUntilMs = forecast.startMs + forecast.valuesGCo2PerKwh.length * forecast.stepMs;
  if (forecast.startMs > nowMs) notes.push(`forecast of ${zone} starts after now`);
  if (choice !== null && knownUntilMs - durationMs < latestMs) {
    notes.push(`forecast of ${zone} ends ${new Date(knownUntilMs).toISOString()}: planned within it`);
  }
  if (choice === null) notes.push(`forecast of ${zone} covers no run window before the deadline`);
  return choice;
}
