// How long before its deadline a plan on finite capacity aims to start (used by capacity-plan.ts). Pure.
import type { PlacementInput } from './policies.js';

/** The margin is at most this share of the slack, so a short slack keeps most of its choice. */
const MARGIN_SHARE_OF_SLACK = 0.25;

/**
 * One estimated run length, at most a quarter of the slack (deadline − arrival, which re-plans do not shrink).
 * Estimates are medians, so about half the runs holding a slot outlast their bookings, and a run planned to start
 * at its very deadline misses it whenever its slot frees a moment late; aiming earlier leaves the slot queue that
 * long to hand it a slot.
 */
export function startMargin(estimatedDurationMs: number, slackMs: number): number {
  return Math.max(0, Math.min(estimatedDurationMs, slackMs * MARGIN_SHARE_OF_SLACK));
}

/**
 * The latest start the plan aims for: the deadline less its margin (never before now) when a candidate the policy
 * may use has finite capacity; unlimited candidates have no queue, so no margin.
 */
export function aimedLatestStart(input: PlacementInput, movesAcrossCandidates: boolean): number {
  const margin = input.startMarginMs ?? 0;
  const usable = movesAcrossCandidates
    ? input.candidates
    : input.candidates.filter((c) => c.id === input.homeCandidateId);
  const finite = usable.some((c) => c.capacity !== undefined && c.capacity > 0 && Number.isFinite(c.capacity));
  return finite && margin > 0 ? Math.max(input.nowMs, input.deadlineMs - margin) : input.deadlineMs;
}
