import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { runsWaitingOn } from '../db/reservations.js';
import { releaseHeldClaim, spillersFor, waitersForFreeSlots } from '../db/slot-claims.js';
import { activityLogger } from '../observability/activity-logger.js';

/** Waiting runs woken per release: a few re-plans are cheap, and the first of them takes the freed room. */
const WAKE_PLANNED_MAX = 4;

/** Tells waiting workflows that a slot may be theirs (a signal); a workflow that is gone is no error. */
export type WakeWaiters = (workflowIds: readonly string[]) => Promise<void>;

/**
 * Gives a run's slot back and wakes the runs next in line for it; says what was released. With `onNode`, only a
 * slot (and booking) on that node: what a run moving off a node releases, so that an attempt of that release which
 * outlived its timeout cannot free the slot the run has taken since elsewhere.
 */
export type ReleaseSlot = (
  runId: string,
  onNode?: string,
) => Promise<{ region: string; nodeName: string | null } | null>;

/**
 * Every way a run ends (grader done, failed, cancelled, moved off a node, recorded, reconciled) releases its claim
 * through this, so a freed slot never sits idle until the queued runs' backoff timers fire. A release that finds
 * nothing held (already released earlier on the run's way out) wakes nobody.
 */
export function createSlotRelease(
  db: Database,
  config: Pick<Config, 'NODE_LIVENESS_SEC'>,
  wake: WakeWaiters,
): ReleaseSlot {
  return async (runId, onNode) => {
    const released = await releaseHeldClaim(db, runId, onNode);
    if (!released) return null;
    const liveSince = new Date(Date.now() - config.NODE_LIVENESS_SEC * 1000);
    const queued = await waitersForFreeSlots(db, released.region, liveSince);
    // Nobody in the region wants the slot: runs elsewhere past their deadline that may use this node take it.
    const spilling =
      released.nodeName === null || queued.length > 0 ? [] : await spillersFor(db, released.nodeName, WAKE_PLANNED_MAX);
    // Runs rarely take their whole estimate: those waiting for a later start on this node plan again now.
    const planned = released.nodeName === null ? [] : await runsWaitingOn(db, released.nodeName, WAKE_PLANNED_MAX);
    const workflowIds = [...new Set([...queued, ...spilling, ...planned])];
    if (workflowIds.length === 0) return released;
    try {
      await wake(workflowIds);
    } catch (error) {
      // Waiters poll too (SLOT_POLL_FALLBACK_MS), and the next release wakes whoever is first then.
      activityLogger({ runId }).warn('could not wake waiting runs', { error: String(error), workflowIds });
    }
    return released;
  };
}

/** Wakes the runs first in line for a region's free slots (a node joined it or came back); says whom it woke. */
export type WakeRegion = (region: string) => Promise<string[]>;

/**
 * A node that registers (or checks in again after it was taken for dead) brings free slots nobody released: the
 * runs queued in its region are told at once, instead of finding out on their fallback poll minutes later.
 */
export function createRegionWake(
  db: Database,
  config: Pick<Config, 'NODE_LIVENESS_SEC'>,
  wake: WakeWaiters,
): WakeRegion {
  return async (region) => {
    const liveSince = new Date(Date.now() - config.NODE_LIVENESS_SEC * 1000);
    const workflowIds = await waitersForFreeSlots(db, region, liveSince);
    if (workflowIds.length > 0) await wake(workflowIds);
    return workflowIds;
  };
}
