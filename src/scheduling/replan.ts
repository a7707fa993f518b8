// A run waiting for a planned start is planned again whenever a fresher forecast is due before that start:
// near-term forecasts are far better than day-ahead ones (see forecast-models.ts), and the deadline stays the
// same, so planning again can only use better information. Pure.
import type { PlacementPlan } from './policies.js';

/** Trace data (Electricity Maps) arrives hourly; forecasts are refreshed on the hour. */
const DEFAULT_FORECAST_REFRESH_MS = 3_600_000;

/**
 * When to plan again: the first forecast refresh after `nowMs` if it comes before the planned start,
 * else `null` (start as planned). A workflow sleeps until then, fetches a forecast and calls `planPlacement`
 * with the same deadline.
 */
export function nextPlanningMs(
  plan: PlacementPlan,
  nowMs: number,
  refreshMs: number = DEFAULT_FORECAST_REFRESH_MS,
): number | null {
  if (plan.startMs <= nowMs || plan.fallbackReason !== null) return null;
  const nextRefreshMs = (Math.floor(nowMs / refreshMs) + 1) * refreshMs;
  return nextRefreshMs < plan.startMs ? nextRefreshMs : null;
}
