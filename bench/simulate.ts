// Replays a year of submissions through the placement policies the workflow uses, on real traces.
import { estimateEnergy, type PowerModel } from '../src/carbon/accounting.js';
import type { ForecastModel } from '../src/carbon/forecast-models.js';
import { HOUR_MS, meanIntensityOver } from '../src/carbon/intensity-series.js';
import type { ZoneTrace } from '../src/carbon/trace-file.js';
import { createTraceProvider } from '../src/carbon/trace-provider.js';
import { planWithCapacity } from '../src/scheduling/capacity-plan.js';
import { startMargin } from '../src/scheduling/start-margin.js';
import { computeDeadline } from '../src/scheduling/deadline.js';
import { estimateDuration } from '../src/scheduling/duration-estimate.js';
import {
  BUILT_IN_POLICIES,
  type PlacementCandidate,
  type PolicyName,
  planPlacement,
} from '../src/scheduling/policies.js';
import { nextPlanningMs } from '../src/scheduling/replan.js';
import type { Submission } from './arrivals.js';
import { HourlyUsage } from './capacity.js';
import { CompletionQueue } from './completion-queue.js';
import { HourlyForecasts, perfectForecast } from './forecast-cache.js';
import { MemoryLedger, runsAtOnce } from './memory-ledger.js';
import { type QueuedRun, type QueuedStart, type QueueOrder, SlotQueueReplay } from './slot-queue.js';
import { MinHeap } from './min-heap.js';
import { spillAtMs } from '../src/shared/slot-spill.js';

/** A placement candidate with the room the benchmark gives it. */
export interface BenchCandidate extends PlacementCandidate {
  /** Runs it can hold at once; undefined: unlimited. */
  capacity?: number;
}

export interface SimSetting {
  name: string;
  title: string;
  /** Every candidate is also, in turn, the home. A candidate's `capacity` (runs at once) is unlimited when unset. */
  candidates: BenchCandidate[];
}

/** One unit of benchmark work: a setting, some of its homes, and how to replay them. */
export interface SimJob {
  /** Which table the job feeds: `headline`, `plan-once`, `due-date-rule`. */
  variant: string;
  setting: SimSetting;
  /** Ids of the candidates to take in turn as home (a subset lets workers share the homes). */
  homeIds: string[];
  slacksMs: number[];
  policies: PolicyName[];
  /** `null`: deadline = received + slack. A number: the due-date rule with this grace applies too. */
  dueGraceMs: number | null;
  /** Plan again at each hourly forecast refresh while waiting (what the workflow does). */
  replan: boolean;
  /**
   * Plan the moving policies (spatial, spatiotemporal and their oracles) for every home. They see the home only
   * when breaking an exact tie, so by default they are planned with the first home and charged to every home.
   */
  exactHomes: boolean;
  /** Which waiting run of a candidate the replayed slot queue serves first (the product: `edf`). */
  queueOrder: QueueOrder;
}

export interface SimInput extends SimJob {
  submissions: readonly Submission[];
  traces: ReadonlyMap<string, ZoneTrace>;
  model: ForecastModel;
  power: PowerModel;
  /** Diagnostics (bench/miss-causes.ts): each world's booked runs and where the slot queue started them. */
  onSlotQueue?: (world: {
    slackMs: number;
    key: string;
    runs: readonly BookedRun[];
    starts: readonly QueuedStart[];
  }) => void;
}

const ORACLE_KINDS = ['spatial', 'temporal', 'spatiotemporal'] as const;
export type OracleKind = (typeof ORACLE_KINDS)[number];

interface HomeTotals {
  home: string;
  emissionsGCo2: Record<string, number>;
  /** Same policies with the true future and the true run time: the limit of each policy class. */
  oracleGCo2: Record<OracleKind, number>;
  fallbacks: Record<string, number>;
  /** Plans made (through the capacity planner and the ledger), re-plans included. */
  plans: Record<string, number>;
  /** Runs that really started after their deadline (in the slot-queue replay): `missedNoRoom` + `missedInSlotQueue`. */
  deadlineMisses: Record<string, number>;
  /** Of those, runs planned after their deadline because no usable candidate had room before it. */
  missedNoRoom: Record<string, number>;
  /** Of those, runs planned by their deadline that the slot queue (bench/slot-queue.ts) started after it. */
  missedInSlotQueue: Record<string, number>;
  /** Runs the slot queue started on another candidate than planned (they spilled at their deadline). */
  spilled: Record<string, number>;
  /** Time runs waited in the slot queue past their planned start: sum and longest, ms. */
  queueWaitMs: Record<string, { total: number; longest: number }>;
  /** Per policy and candidate: most busy time any capacity bucket held, as runs at once (compare with capacity). */
  peakLoad: Record<string, Record<string, number>>;
  /** Wall time spent planning (capacity planner and ledger), ms. */
  planMs: Record<string, number>;
}

/** One world's fleet: its reservation ledger, its slot queue and the runs it booked (in the queue's order). */
interface World {
  ledger: MemoryLedger;
  replay: SlotQueueReplay;
  booked: BookedRun[];
}

interface SlackTotals {
  slackMs: number;
  homes: HomeTotals[];
  /** Per policy and candidate: max over homes and clock hours of runs at once ÷ capacity (null: unlimited). */
  peakUtilisation: Record<string, Record<string, number | null>>;
}

export interface SimResult {
  job: SimJob;
  submissions: number;
  /** Every run at this zone, no delay: the static choices for the hindsight baseline. */
  staticGCo2ByZone: Record<string, number>;
  slacks: SlackTotals[];
  /** Wall time of the replay, seconds. */
  elapsedSec: number;
}

const perPolicy = <T>(policies: readonly string[], value: () => T) =>
  Object.fromEntries(policies.map((p) => [p, value()])) as Record<string, T>;

export async function simulate(input: SimInput): Promise<SimResult> {
  const startedMs = performance.now();
  const { candidates } = input.setting;
  const zones = [...new Set(candidates.map((c) => c.zone))];
  // Bookings are held to capacity as the product's are (the PostgreSQL ledger's guard).
  const capacities = new Map(
    candidates.flatMap((c) => (c.capacity === undefined ? [] : [[c.id, c.capacity] as const])),
  );
  const traces = zones.map((zone) => {
    const trace = input.traces.get(zone);
    if (!trace) throw new Error(`no trace for ${zone}`);
    return trace;
  });
  const traceOf = new Map(traces.map((trace) => [trace.zone, trace]));
  let clockMs = 0;
  const provider = createTraceProvider({ traces: input.traces, model: input.model, now: () => clockMs });
  const maxSlackMs = Math.max(...input.slacksMs);
  const hourly = new HourlyForecasts(provider, (ms) => (clockMs = ms), zones, maxSlackMs + 2 * HOUR_MS);
  const staticGCo2ByZone = perPolicy(zones, () => 0);
  const state = input.slacksMs.map((slackMs) => ({
    slackMs,
    homes: input.homeIds.map((home) => ({
      home,
      emissionsGCo2: perPolicy(input.policies, () => 0),
      oracleGCo2: { spatial: 0, temporal: 0, spatiotemporal: 0 },
      fallbacks: perPolicy(input.policies, () => 0),
      plans: perPolicy(input.policies, () => 0),
      deadlineMisses: perPolicy(input.policies, () => 0),
      missedNoRoom: perPolicy(input.policies, () => 0),
      missedInSlotQueue: perPolicy(input.policies, () => 0),
      spilled: perPolicy(input.policies, () => 0),
      queueWaitMs: perPolicy(input.policies, () => ({ total: 0, longest: 0 })),
      planMs: perPolicy(input.policies, () => 0),
      queues: perPolicy(input.policies, () => new CompletionQueue()),
    })),
    // One fleet per world the runs share: per policy, and per home too unless the policy's plans are shared.
    worlds: new Map<string, World>(),
    /** Per policy, usage by home (policies that move across candidates share one, keyed ''). */
    usage: perPolicy(input.policies, () => new Map<string, HourlyUsage>()),
  }));
  type SlackState = (typeof state)[number];
  const capacityOf = (id: string) => candidates.find((c) => c.id === id)?.capacity;
  const worldOf = (slack: SlackState, key: string): World => {
    let world = slack.worlds.get(key);
    if (!world) {
      const ledger = new MemoryLedger();
      const booked: BookedRun[] = [];
      // The slot queue tells the ledger what the product's claim and release tell it. The memory ledger's calls
      // finish before they return, so the plan that follows sees them.
      const replay = new SlotQueueReplay(capacityOf, input.queueOrder, {
        started: (index, start) => void ledger.start(booked[index]!.runId, start.startMs, start.candidateId),
        ended: (index) => void ledger.release(booked[index]!.runId),
      });
      slack.worlds.set(key, (world = { ledger, replay, booked }));
    }
    return world;
  };
  const candidateIds = candidates.map((c) => c.id);

  /** A run's planning in one world: its first plan at its arrival, then one at each re-plan, in time order. */
  interface Planning {
    slack: SlackState;
    world: World;
    policy: PolicyName;
    /** The home it is planned for; `homes`: the totals it is charged to. */
    totals: SlackState['homes'][number];
    homes: ReadonlyArray<SlackState['homes'][number]>;
    sharable: boolean;
    sub: Submission;
    deadlineMs: number;
    energyKwh: number;
    estimatedDurationMs: number;
    plans: number;
    planMs: number;
  }
  const pending = new MinHeap<{ atMs: number; seq: number; planning: Planning }>(
    (a, b) => a.atMs < b.atMs || (a.atMs === b.atMs && a.seq <= b.seq),
  );
  let seq = 0;
  const planAt = async (planning: Planning, nowMs: number): Promise<void> => {
    const { slack, world, policy, totals, sub, deadlineMs, energyKwh } = planning;
    // What happened in this world up to now: runs that started, spilled and ended (the ledger learns of each).
    world.replay.advanceTo(nowMs);
    const runId = String(sub.id);
    const request = {
      candidates,
      homeCandidateId: totals.home,
      deadlineMs,
      policy,
      estimatedDurationMs: planning.estimatedDurationMs,
      startMarginMs: startMargin(planning.estimatedDurationMs, deadlineMs - sub.receivedMs),
    };
    const planStartedMs = performance.now();
    const plan = await world.ledger.reserve({ runId, candidateIds, fromMs: nowMs, capacities }, (occupancy) =>
      planWithCapacity({ ...request, nowMs, forecasts: hourly.at(nowMs) }, occupancy),
    );
    planning.planMs += performance.now() - planStartedMs;
    planning.plans += 1;
    // A run waiting only for room claims now and waits in the slot queue (choosePlacement), not re-planning.
    const next = plan.waitsOnlyForRoom ? null : nextPlanningMs(plan, nowMs);
    if (input.replan && next !== null) {
      pending.push({ atMs: next, seq: seq++, planning });
      return;
    }
    const { durationMs, assignmentId, receivedMs } = sub;
    totals.queues[policy]!.push({ endMs: plan.startMs + durationMs, assignmentId, durationMs });
    const usageKey = planning.sharable ? '' : totals.home;
    const usage = slack.usage[policy]!;
    if (!usage.has(usageKey)) usage.set(usageKey, new HourlyUsage());
    usage.get(usageKey)!.add(plan.candidate.id, plan.startMs, durationMs);
    const mean = meanIntensityOver(
      traceOf.get(plan.candidate.zone) ?? traces[0]!,
      plan.startMs,
      plan.startMs + durationMs,
    );
    if (mean === null)
      throw new Error(`run at ${plan.candidate.zone} ${new Date(plan.startMs).toISOString()} is outside the trace`);
    const missed = plan.deadlineMissed || plan.startMs > deadlineMs;
    for (const home of planning.homes) {
      home.emissionsGCo2[policy]! += energyKwh * mean;
      home.plans[policy]! += planning.plans;
      home.planMs[policy]! += planning.planMs;
      if (plan.fallbackReason !== null) home.fallbacks[policy]! += 1;
    }
    const run: BookedRun = {
      candidateId: plan.candidate.id,
      zone: plan.candidate.zone,
      plannedStartMs: plan.startMs,
      queuedAtMs: plan.waitsOnlyForRoom ? nowMs : plan.startMs,
      spillAtMs: spillAtMs(deadlineMs),
      spillTo: plan.spillOrder,
      durationMs,
      bookedDurationMs: plan.durationMs,
      runId,
      receivedMs,
      energyKwh,
      deadlineMs,
      plannedLate: missed,
      policy,
      homes: planning.homes,
    };
    world.booked.push(run);
    world.replay.add(run);
  };
  /** Plays every re-plan due by `untilMs`, in time order (each at its instant's forecast). */
  const replanUntil = async (untilMs: number): Promise<void> => {
    for (let due = pending.peek(); due !== undefined && due.atMs <= untilMs; due = pending.peek()) {
      pending.pop();
      // A run placed after its deadline (no room before it) re-plans past the slack prepared at its arrival.
      await hourly.prepare(due.atMs, due.atMs);
      await planAt(due.planning, due.atMs);
    }
  };

  for (const sub of input.submissions) {
    const { receivedMs, durationMs, assignmentId } = sub;
    await replanUntil(receivedMs);
    const wallTimeSec = durationMs / 1000;
    const { energyKwh } = estimateEnergy(
      { cpuTimeSec: sub.cpuTimeSec, wallTimeSec, memoryGb: sub.memoryGb },
      input.power,
    );
    const emitted = (zone: string, startMs: number): number => {
      const mean = meanIntensityOver(traceOf.get(zone) ?? traces[0]!, startMs, startMs + durationMs);
      if (mean === null) throw new Error(`run at ${zone} ${new Date(startMs).toISOString()} is outside the trace`);
      return energyKwh * mean;
    };
    for (const zone of zones) staticGCo2ByZone[zone] = (staticGCo2ByZone[zone] ?? 0) + emitted(zone, receivedMs);
    await hourly.prepare(receivedMs, receivedMs + maxSlackMs);
    const truth = traces.map((trace) => perfectForecast(trace, receivedMs, receivedMs + maxSlackMs + durationMs));
    for (const slack of state) {
      const deadlineMs =
        input.dueGraceMs === null
          ? receivedMs + slack.slackMs
          : computeDeadline(
              { receivedMs, dueMs: sub.dueMs, lateDueMs: sub.lateDueMs },
              { maxDelayMs: slack.slackMs, dueGraceMs: input.dueGraceMs },
            ).deadlineMs;
      const sharedOracle = new Map<string, number>();
      for (const totals of slack.homes) {
        for (const policy of input.policies) {
          const sharable = !input.exactHomes && BUILT_IN_POLICIES[policy].movesAcrossCandidates;
          // A plan shared across homes is made once, with the first home, and charged to every home.
          if (sharable && totals !== slack.homes[0]) continue;
          const queue = totals.queues[policy]!;
          queue.flush(receivedMs);
          const { estimatedDurationMs } = estimateDuration(queue.history.get(assignmentId) ?? []);
          const key = sharable ? policy : `${totals.home}/${policy}`;
          await planAt(
            {
              slack,
              world: worldOf(slack, key),
              policy,
              totals,
              homes: sharable ? slack.homes : [totals],
              sharable,
              sub,
              deadlineMs,
              energyKwh,
              estimatedDurationMs,
              plans: 0,
              planMs: 0,
            },
            receivedMs,
          );
        }
        const base = { candidates, homeCandidateId: totals.home, deadlineMs };
        for (const kind of ORACLE_KINDS) {
          const sharable = !input.exactHomes && BUILT_IN_POLICIES[kind].movesAcrossCandidates;
          let grams = sharable ? sharedOracle.get(kind) : undefined;
          if (grams === undefined) {
            const request = { ...base, policy: kind, nowMs: receivedMs, estimatedDurationMs: durationMs };
            const plan = planPlacement({ ...request, forecasts: truth });
            grams = emitted(plan.candidate.zone, plan.startMs);
            if (sharable) sharedOracle.set(kind, grams);
          }
          totals.oracleGCo2[kind] += grams;
        }
      }
    }
  }
  await replanUntil(Infinity);
  for (const slack of state) {
    for (const [key, { booked: runs, replay }] of slack.worlds) {
      const starts = replay.finish();
      chargeSlotQueue(
        runs,
        starts,
        (id) => candidates.find((c) => c.id === id)?.zone ?? id,
        (zone, startMs, durationMs) => {
          const mean = meanIntensityOver(traceOf.get(zone) ?? traces[0]!, startMs, startMs + durationMs);
          if (mean === null)
            throw new Error(`queued run at ${zone} ${new Date(startMs).toISOString()} is outside the trace`);
          return mean;
        },
      );
      input.onSlotQueue?.({ slackMs: slack.slackMs, key, runs, starts });
    }
  }
  const { variant, setting, homeIds, slacksMs, policies, dueGraceMs, replan, exactHomes, queueOrder } = input;
  return {
    job: { variant, setting, homeIds, slacksMs, policies, dueGraceMs, replan, exactHomes, queueOrder },
    submissions: input.submissions.length,
    staticGCo2ByZone,
    slacks: state.map((slack) => ({
      slackMs: slack.slackMs,
      homes: slack.homes.map(({ queues: _queues, ...totals }) => ({
        ...totals,
        peakLoad: Object.fromEntries(
          input.policies.map((policy) => {
            const sharable = !input.exactHomes && BUILT_IN_POLICIES[policy].movesAcrossCandidates;
            const ledger = slack.worlds.get(sharable ? policy : `${totals.home}/${policy}`)?.ledger;
            const peaks = [...(ledger?.peakBusyMs ?? [])].map(([id, busyMs]) => [id, runsAtOnce(busyMs)]);
            return [policy, Object.fromEntries(peaks)];
          }),
        ),
      })),
      peakUtilisation: Object.fromEntries(
        Object.entries(slack.usage).map(([policy, byHome]) => [
          policy,
          Object.fromEntries(
            candidates.map((c) => [
              c.id,
              maxOrNull([...byHome.values()].map((u) => u.peakUtilisation(c.id, c.capacity))),
            ]),
          ),
        ]),
      ),
    })),
    elapsedSec: Math.round((performance.now() - startedMs) / 100) / 10,
  };
}

export interface BookedRun extends QueuedRun {
  runId: string;
  receivedMs: number;
  /** The booking's length (the estimate); `durationMs` is the true run time. */
  bookedDurationMs: number;
  zone: string;
  energyKwh: number;
  deadlineMs: number;
  /** Planned after the deadline (no room before it on any usable candidate). */
  plannedLate: boolean;
  policy: string;
  /** The totals this run is charged to (every home for a plan shared across homes). */
  homes: ReadonlyArray<Omit<HomeTotals, 'peakLoad'>>;
}

/**
 * Charges what the slot queue's replay of one world's bookings changed: the emissions of a run started
 * elsewhere or at another time than planned, its wait, a spill, and a miss when the real start is past the
 * deadline (by cause: planned late for lack of room, or held in the queue).
 */
function chargeSlotQueue(
  runs: readonly BookedRun[],
  starts: readonly QueuedStart[],
  zoneOf: (candidateId: string) => string,
  intensityOver: (zone: string, startMs: number, durationMs: number) => number,
): void {
  runs.forEach((run, index) => {
    const { startMs, candidateId } = starts[index]!;
    const moved = startMs !== run.plannedStartMs || candidateId !== run.candidateId;
    const extraGrams = moved
      ? run.energyKwh *
        (intensityOver(zoneOf(candidateId), startMs, run.durationMs) -
          intensityOver(run.zone, run.plannedStartMs, run.durationMs))
      : 0;
    const waitMs = startMs - run.plannedStartMs;
    const missed = startMs > run.deadlineMs;
    for (const totals of run.homes) {
      totals.emissionsGCo2[run.policy]! += extraGrams;
      if (candidateId !== run.candidateId) totals.spilled[run.policy]! += 1;
      if (waitMs > 0) {
        const wait = totals.queueWaitMs[run.policy]!;
        wait.total += waitMs;
        wait.longest = Math.max(wait.longest, waitMs);
      }
      if (missed) {
        totals.deadlineMisses[run.policy]! += 1;
        if (run.plannedLate) totals.missedNoRoom[run.policy]! += 1;
        else totals.missedInSlotQueue[run.policy]! += 1;
      }
    }
  });
}

function maxOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
}
