// A started run holds its slot until it is released, not until its estimate runs out. Its booking covers its
// estimate from its real start; a run that outlasts the estimate (the estimate is a median: about half do) would
// leave a booking that ended while its slot is still taken, and a plan would see that slot free. So before a plan
// reads a candidate's books, every started run there whose booking has ended is booked again up to the plan's
// instant plus a short hold, and again at a later plan while it still runs. The PostgreSQL ledger (migration 0017,
// greengrader_hold_started) and the benchmark's memory ledger apply this one rule. Pure.
import { countedMs } from './capacity-buckets.js';

/**
 * How far past the plan's instant a started run that outlasted its booking is taken to run on. Its end is
 * unknown; a minute covers most overruns of graders that take one to five, and a run still going at the next plan
 * is held again from there. Longer holds would keep plans off a slot that frees in seconds.
 */
export const STARTED_RUN_HOLD_MS = 60_000;

/**
 * The booking length a started run needs at `nowMs` so that its booking still covers `nowMs` and the hold after
 * it; null when its booking already ends after `nowMs`.
 */
export function heldDurationMs(startMs: number, durationMs: number, nowMs: number): number | null {
  if (startMs + countedMs(durationMs) > nowMs) return null;
  return nowMs + STARTED_RUN_HOLD_MS - startMs;
}
