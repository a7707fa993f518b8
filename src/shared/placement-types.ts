// Types of carbon-aware planning that cross the workflow/activity boundary. Declarations only.
import type { ProviderAttempt } from '../carbon/fallback-provider.js';
import type { ForecastRequest, MissingZone, ZoneForecast } from '../carbon/provider.js';
import type { PlacementCandidate } from '../scheduling/policies.js';

/** Everything a planning round needs besides the forecast; gathered from the database by an activity. */
export interface PlanningContext {
  policy: string;
  candidates: PlacementCandidate[];
  homeCandidateId: string;
  /** Latest allowed start, epoch ms. */
  deadlineMs: number;
  deadlineRule: string;
  estimatedDurationMs: number;
  /** How long before the deadline a plan on finite capacity aims to start (startMargin); absent in older histories. */
  startMarginMs?: number;
  /** Carbon providers to try, in order. */
  providers: string[];
  forecastRequest: ForecastRequest;
  refreshMs: number;
}

/** The forecast a planning round used (or why it had none). */
export interface ForecastOutcome {
  provider: string | null;
  forecasts: ZoneForecast[];
  missing: MissingZone[];
  attempts: ProviderAttempt[];
  reason: string | null;
}

/** The forecast a run plans with when no carbon provider is configured: none, carbon-agnostic. */
export function forecastWithoutProviders(): ForecastOutcome {
  return { provider: null, forecasts: [], missing: [], attempts: [], reason: 'no carbon provider configured' };
}

/** What the workflow acts on: where, when, and when to look again. */
export interface RunPlan {
  nodeName: string;
  startMs: number;
  /** Re-plan with a fresh forecast at this time if the run is still waiting; null when it starts now. */
  nextPlanningMs: number | null;
  /** The planner's clock when it planned: a start at or before it is now (absent from plans made before it). */
  plannedAtMs?: number;
  policy: string;
  expectedIntensityGCo2PerKwh: number | null;
  fallbackReason: string | null;
}
