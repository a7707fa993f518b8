// Where and when a run goes: plan with a fresh forecast, wait for the greener hour, then claim a slot or queue.
import { ActivityFailure, condition, workflowInfo } from '@temporalio/workflow';
import { NODE_GONE_ERROR, NODES_EXHAUSTED_ERROR, type GradingStatus, type Placement } from '../shared/grading-types.js';
import {
  forecastWithoutProviders,
  type ForecastOutcome,
  type PlanningContext,
  type RunPlan,
} from '../shared/placement-types.js';
import { LANE } from '../shared/search-attributes.js';
import type { CentralProxies } from './activity-proxies.js';
import { applicationFailureMessage } from './grading-state.js';
import type { RunPath } from './run-path.js';

/**
 * Before 882aeb4 a plan starting within 1 s of now started at once. Runs planned by that code replay with it (see
 * test/workflows/histories/waited-before-never-early.json); drop the branch once no such run can still be open.
 */
const NEVER_EARLY_PATCH = 'never-early-start';
const LEGACY_START_TOLERANCE_MS = 1000;
/**
 * Busy is not dead: a run claims a free slot (or queues in its lane until one is free) instead of being sent to a
 * full node, gives the slot back as soon as its grader ends, and a live node that did not pick it up in time gets
 * it again. Before this patch runs claimed their node directly (claimNode) and a pickup timeout failed the node.
 */
const SLOT_QUEUE_PATCH = 'queue-for-slot';
/**
 * Waiting for a slot: a signal wakes the run whenever a slot may be its (a run releasing or claiming one wakes
 * those first in line and some planned on its node, which re-plan when the node died; a node registering wakes
 * its region's), and an expedite does. The timer is only a safety net for a signal lost on the way, so it is long
 * and fixed: each firing is a workflow task, a claim transaction and a new timer for every queued run. A timer's
 * duration is not part of replay: runs queued under the old 2-s backoff replay (queued-then-claimed-local.json).
 */
export const SLOT_POLL_FALLBACK_MS = 5 * 60_000;
/**
 * A long wait in the queue grows the history by ~10 events per poll or wake-up (timer, workflow task, claimSlot,
 * memo). Past this many events (or when the server suggests it) the run continues as new with its state, so a
 * run queued for days behind thousands of slot releases never nears Temporal's history limits.
 */
export const QUEUE_WAIT_MAX_HISTORY_EVENTS = 1_000;
const BOUNDED_QUEUE_WAIT_PATCH = 'continue-as-new-while-queued';
/** What planAndWait returns when the run should continue as a new run (its queue row keeps its place). */
export const CONTINUE_AS_NEW = 'continue-as-new';
/**
 * A run waiting for a later start because its node was booked (reservations over time) is woken by the same
 * slot-freed signal when a run there ends early, and plans again: estimates are long, so the room often frees
 * before the reserved start. Before this patch only an expedite ended the wait early.
 */
const REPLAN_ON_FREED_ROOM_PATCH = 'replan-on-freed-room';
/** A run's part in the slot queue: whether it claims through the queue, and whether a freed slot woke it. */
export interface QueueState {
  active: boolean;
  woken: boolean;
}

/**
 * Plans (node, start) with a fresh forecast, sleeps on a durable timer until the start or the next
 * forecast refresh, re-plans when it wakes, and claims the node once the start has come. Returns null
 * when every live node already failed the run, 'node-gone' when the planned node vanished meanwhile.
 */
export async function planAndWait(
  runId: string,
  excludeNodes: string[],
  status: GradingStatus,
  queue: QueueState,
  path: RunPath,
): Promise<Placement | 'node-gone' | typeof CONTINUE_AS_NEW | null> {
  const { placement } = path.activities;
  const { visibility } = path;
  for (;;) {
    visibility.setState(status, 'planning');
    let planned: { context: PlanningContext; plan: RunPlan | null };
    try {
      const input = { runId, excludeNodes, expedite: status.expedited };
      planned = path.steps
        ? await path.steps.planRun(input)
        : { context: await placement.preparePlanning(input), plan: null };
    } catch (error) {
      if (applicationFailureMessage(error, NODES_EXHAUSTED_ERROR) !== null) return null;
      throw error;
    }
    const { context } = planned;
    // planRun plans at once when no carbon provider is to be asked; otherwise each is asked here, in turn.
    const plan =
      planned.plan ??
      (await placement.choosePlacement({
        runId,
        context,
        forecast: await forecastInOrder(path.activities, context),
      }));
    status.policy = plan.policy;
    status.nodeName = plan.nodeName;
    status.plannedStartAt = new Date(plan.startMs).toISOString();
    status.expectedIntensityGCo2PerKwh = plan.expectedIntensityGCo2PerKwh;
    // Never early: a plan's start is where the cleaner window begins; re-planning on waking starts it now.
    const toleranceMs = path.patched(NEVER_EARLY_PATCH) ? 0 : LEGACY_START_TOLERANCE_MS;
    // A local activity plans after the workflow task began (the workflow's clock): its own clock says what is now.
    const nowMs = Math.max(Date.now(), plan.plannedAtMs ?? 0);
    if (status.expedited || plan.startMs <= nowMs + toleranceMs) break;

    visibility.setState(status, 'waiting');
    const wakeOnFreedRoom = path.patched(REPLAN_ON_FREED_ROOM_PATCH);
    queue.woken = false;
    await condition(() => status.expedited || (wakeOnFreedRoom && queue.woken), wakeAfterMs(plan));
  }
  visibility.setState(status, 'placing');
  if (path.patched(SLOT_QUEUE_PATCH)) return queueForSlot(runId, excludeNodes, status, queue, path);
  try {
    return await placement.claimNode({ runId, nodeName: status.nodeName ?? '' });
  } catch (error) {
    const gone = applicationFailureMessage(error, NODE_GONE_ERROR);
    if (gone === null) throw error;
    status.lastError = gone;
    return 'node-gone';
  }
}

/**
 * Claims a slot on the planned node (or a node of its region) once one is free; until then the run is `queued` in
 * its lane. Returns 'node-gone' when the planned node stopped checking in, to plan again, and CONTINUE_AS_NEW when
 * its history grew too long while waiting. Exported for a run continued as new: it goes straight back to the queue.
 */
export async function queueForSlot(
  runId: string,
  excludeNodes: string[],
  status: GradingStatus,
  queue: QueueState,
  path: RunPath,
): Promise<Placement | 'node-gone' | typeof CONTINUE_AS_NEW> {
  const { slots } = path.activities;
  const { visibility } = path;
  queue.active = true;
  for (;;) {
    queue.woken = false;
    let claim;
    try {
      claim = await slots.claimSlot({
        runId,
        nodeName: status.nodeName ?? '',
        excludeNodes,
        expedite: status.expedited,
      });
    } catch (error) {
      const gone = applicationFailureMessage(error, NODE_GONE_ERROR);
      if (gone === null) throw error;
      status.lastError = gone;
      return 'node-gone';
    }
    const laneChanged = status.lane !== claim.lane;
    if (laneChanged) {
      status.lane = claim.lane;
      visibility.upsert([{ key: LANE, value: claim.lane }]);
    }
    if (claim.kind === 'claimed') {
      status.queuePosition = null;
      return claim.placement;
    }
    // Only a change is written: each upsert is an event in the run's history. A new place in line alone is not,
    // where the query and the database serve it (the lane is, to keep it filterable while the run waits).
    const moved = status.queuePosition !== claim.position;
    const changed = status.state !== 'queued' || (visibility.writesEveryChange ? moved : laneChanged);
    status.queuePosition = claim.position;
    if (changed) visibility.setState(status, 'queued');
    // An expedite signal that came while queued wakes the run too: its claim moves it to the head of the queue.
    const expeditedWhenQueued = status.expedited;
    await condition(() => queue.woken || status.expedited !== expeditedWhenQueued, queuedWaitMs(claim.spillAtMs));
    if (historyTooLong(path)) return CONTINUE_AS_NEW;
  }
}

/**
 * How long a queued run waits for a wake-up before it claims again: the safety net, or until its spill time if that
 * comes first, since no signal says the run may now take a free slot elsewhere. Only the timer's duration changes
 * (no new command), so runs queued before replay as they ran.
 */
function queuedWaitMs(spillAtMs: number | null | undefined): number {
  if (spillAtMs === null || spillAtMs === undefined) return SLOT_POLL_FALLBACK_MS;
  return Math.min(SLOT_POLL_FALLBACK_MS, Math.max(spillAtMs - Date.now(), 1));
}

/** Checked between waits; the patch keeps runs that waited long before it replaying as they ran. */
function historyTooLong(path: RunPath): boolean {
  const info = workflowInfo();
  const tooLong = info.continueAsNewSuggested || info.historyLength >= QUEUE_WAIT_MAX_HISTORY_EVENTS;
  return tooLong && path.patched(BOUNDED_QUEUE_WAIT_PATCH);
}

/** Until the planned start, or the next forecast refresh if that comes first (workflow time is durable). */
function wakeAfterMs(plan: RunPlan): number {
  const wakeAt = plan.nextPlanningMs === null ? plan.startMs : Math.min(plan.startMs, plan.nextPlanningMs);
  return Math.max(wakeAt - Date.now(), 1);
}

/** Asks each configured provider in turn; with none answering, the run goes ahead carbon-agnostic. */
async function forecastInOrder({ carbon }: CentralProxies, context: PlanningContext): Promise<ForecastOutcome> {
  if (context.providers.length === 0) return forecastWithoutProviders();
  const attempts: ForecastOutcome['attempts'] = [];
  for (const provider of context.providers) {
    try {
      const set = await carbon.forecastCarbon({ provider, request: context.forecastRequest });
      attempts.push({ provider, ok: true, failure: null, error: null });
      return { provider, forecasts: set.forecasts, missing: set.missing, attempts, reason: null };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      attempts.push({ provider, ok: false, failure: 'unexpected', error: error.cause?.message ?? error.message });
    }
  }
  const reason = `every carbon provider failed: ${attempts.map((a) => `${a.provider} (${a.error})`).join('; ')}`;
  return { provider: null, forecasts: [], missing: [], attempts, reason };
}
