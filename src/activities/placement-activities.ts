import { ApplicationFailure } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import { carbonProviderNames } from '../carbon/configured-providers.js';
import { resolveRegion, type RegionsConfig } from '../carbon/regions.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { gradingRuns, submissions } from '../db/schema.js';
import { planRecord } from '../db/plan-record.js';
import { createPostgresLedger, reserveAndRecord } from '../db/reservations.js';
import { recordDirectClaim } from '../db/slot-claims.js';
import { computeDeadline } from '../scheduling/deadline.js';
import { estimateDuration } from '../scheduling/duration-estimate.js';
import { type CapacityPlan, candidatesPlannedOn, planWithCapacity } from '../scheduling/capacity-plan.js';
import { startMargin } from '../scheduling/start-margin.js';
import type { PlacementCandidate, PlacementInput } from '../scheduling/policies.js';
import { nextPlanningMs } from '../scheduling/replan.js';
import { EMPTY_OCCUPANCY, type Occupancy } from '../shared/capacity-buckets.js';
import type { ExecutorKind } from '../shared/executor-kind.js';
import { NODE_GONE_ERROR, type Placement } from '../shared/grading-types.js';
import type { ForecastOutcome, PlanningContext, RunPlan } from '../shared/placement-types.js';
import { findLiveNode, liveNodes } from './live-nodes.js';
import { placementFor } from './placement-timeouts.js';

/** How placement sees each kind of node: one machine, or a whole region of a cluster. */
const candidateKind: Record<ExecutorKind, PlacementCandidate['kind']> = {
  docker: 'docker-node',
  kubernetes: 'k8s-region',
};

/** What an expedited run plans against: nothing, since a person is waiting (its booking still counts for others). */
const NO_OCCUPANCY: Occupancy = EMPTY_OCCUPANCY;

export function createPlacementActivities(db: Database, config: Config, regions: RegionsConfig) {
  const carbonZone = (region: string) => resolveRegion(regions, region)?.entry.zone ?? `unmapped:${region}`;
  const ledger = createPostgresLedger(db);
  // Built once, sent by name: the run's dates, and the grader times of the assignment's last 25 graded runs (its
  // duration estimate), in one read.
  const planningRead = db
    .select({
      receivedAt: gradingRuns.receivedAt,
      dueDate: submissions.assignmentDueDate,
      lateDueDate: submissions.assignmentLateDueDate,
      earlierMs: sql<number[]>`array(
        select g.execution_time_ms from grading_runs g join submissions s on s.id = g.submission_id
        where s.assignment_id = ${submissions.assignmentId} and g.outcome = 'graded' and g.execution_time_ms is not null
        order by g.recorded_at desc limit 25)`,
    })
    .from(gradingRuns)
    .innerJoin(submissions, eq(submissions.id, gradingRuns.submissionId))
    .where(eq(gradingRuns.id, sql.placeholder('runId')))
    .prepare('prepare_planning_run');
  return {
    /** Gathers candidates, home, deadline and expected duration for one planning round. */
    async preparePlanning(input: {
      runId: string;
      excludeNodes: string[];
      expedite: boolean;
    }): Promise<PlanningContext> {
      const nodes = await liveNodes(db, config.NODE_LIVENESS_SEC, input.excludeNodes);
      const candidates: PlacementCandidate[] = nodes.map((node) => ({
        id: node.name,
        kind: candidateKind[node.kind],
        region: node.region,
        zone: carbonZone(node.region),
        freeSlots: node.maxConcurrentRuns + node.prefetchRuns - node.activeRuns,
        // A Docker node's NODE_MAX_CONCURRENT_RUNS, or a Kubernetes region's quota (its worker registers it),
        // plus the runs a Docker node prepares while its graders run: they start the instant a grader ends, so
        // booking only the slots would hold each next run back until a run ends and re-open the handoff gap.
        capacity: node.maxConcurrentRuns + node.prefetchRuns,
      }));
      // Home: the least busy node of the home region; without one, the least busy node anywhere.
      const byFreeSlots = [...candidates].sort((a, b) => b.freeSlots - a.freeSlots);
      const home = byFreeSlots.find((c) => c.region === config.HOME_REGION) ?? byFreeSlots[0];
      if (!home) throw new Error('liveNodes returned no node');

      const [run] = await planningRead.execute({ runId: input.runId });
      if (!run) throw new Error(`run ${input.runId} has no stored submission`);
      const deadline = computeDeadline(
        {
          receivedMs: run.receivedAt.getTime(),
          dueMs: run.dueDate?.getTime() ?? null,
          lateDueMs: run.lateDueDate?.getTime() ?? null,
          expedite: input.expedite,
        },
        { maxDelayMs: config.MAX_DELAY_SEC * 1000, dueGraceMs: config.DUE_GRACE_SEC * 1000 },
      );
      const duration = estimateDuration(run.earlierMs);
      await db
        .update(gradingRuns)
        .set({ deadlineAt: new Date(deadline.deadlineMs), expedited: input.expedite })
        .where(eq(gradingRuns.id, input.runId));

      const nowMs = Date.now();
      return {
        policy: config.PLACEMENT_POLICY,
        candidates,
        homeCandidateId: home.id,
        deadlineMs: deadline.deadlineMs,
        deadlineRule: deadline.rule,
        estimatedDurationMs: duration.estimatedDurationMs,
        startMarginMs: startMargin(duration.estimatedDurationMs, deadline.slackMs),
        providers: carbonProviderNames(config),
        forecastRequest: {
          zones: [...new Set(candidates.map((c) => c.zone))],
          fromMs: nowMs,
          toMs: Math.max(nowMs, deadline.deadlineMs) + duration.estimatedDurationMs,
          runDurationMs: duration.estimatedDurationMs,
          homeZone: home.zone,
        },
        refreshMs: config.FORECAST_REFRESH_SEC * 1000,
      };
    },

    /**
     * Applies the configured policy to the forecast within the candidates' capacity over time, reserves the chosen
     * (candidate, start) in place of the run's earlier reservation, and records the plan on the run.
     */
    async choosePlacement(input: {
      runId: string;
      context: PlanningContext;
      forecast: ForecastOutcome;
    }): Promise<RunPlan> {
      const { context, forecast } = input;
      const nowMs = Date.now();
      const request: PlacementInput = {
        policy: context.policy,
        candidates: context.candidates,
        homeCandidateId: context.homeCandidateId,
        nowMs,
        deadlineMs: context.deadlineMs,
        estimatedDurationMs: context.estimatedDurationMs,
        startMarginMs: context.startMarginMs,
        forecasts: forecast.forecasts,
      };
      const expedited = context.deadlineRule === 'expedited';
      // An expedited run takes room regardless of reservations, so its booking is not held to capacity either.
      const limited = expedited ? [] : context.candidates.filter((c) => c.capacity !== undefined);
      const capacities = new Map(limited.map((c) => [c.id, c.capacity as number]));
      // When every provider failed, that is the cause; the policy's own fallback only restates it.
      const fallbackReasonOf = (plan: CapacityPlan) => forecast.reason ?? plan.fallbackReason;
      // The plan on the run row commits with its booking: a plan the run row shows is always the one booked.
      const plan = await reserveAndRecord(
        db,
        { runId: input.runId, candidateIds: candidatesPlannedOn(context), fromMs: nowMs, capacities },
        (occupancy) => planWithCapacity(request, expedited ? NO_OCCUPANCY : occupancy),
        (chosen) =>
          planRecord(input.runId, {
            policy: chosen.policy,
            plannedStartMs: chosen.startMs,
            plannedIntensityGCo2PerKwh: chosen.expectedIntensityGCo2PerKwh,
            carbonZone: chosen.candidate.zone,
            deadlineMissed: chosen.deadlineMissed,
            plan: {
              ...chosen,
              plannedAt: new Date(nowMs).toISOString(),
              deadline: new Date(context.deadlineMs).toISOString(),
              deadlineRule: context.deadlineRule,
              estimatedDurationMs: context.estimatedDurationMs,
              homeCandidateId: context.homeCandidateId,
              candidates: context.candidates,
              forecastProvider: forecast.provider,
              providerAttempts: forecast.attempts,
              missingZones: forecast.missing,
              fallbackReason: fallbackReasonOf(chosen),
            },
          }),
      );
      const fallbackReason = fallbackReasonOf(plan);
      // Waiting only for room: claim now and wait in the lane queue (see CapacityPlan.waitsOnlyForRoom).
      const startMs = plan.waitsOnlyForRoom ? nowMs : plan.startMs;
      return {
        nodeName: plan.candidate.id,
        startMs,
        nextPlanningMs: nextPlanningMs({ ...plan, startMs }, nowMs, context.refreshMs),
        plannedAtMs: nowMs,
        policy: plan.policy,
        expectedIntensityGCo2PerKwh: plan.expectedIntensityGCo2PerKwh,
        fallbackReason,
      };
    },

    /**
     * Commits the run to the planned node, if it is still checking in, whether or not it has a free slot: the
     * step of runs planned before the slot queue (see claimSlot in slot-activities.ts, which replaces it).
     */
    async claimNode(input: { runId: string; nodeName: string }): Promise<Placement> {
      const node = await findLiveNode(db, config.NODE_LIVENESS_SEC, input.nodeName);
      if (!node) {
        throw ApplicationFailure.nonRetryable(`node ${input.nodeName} stopped checking in`, NODE_GONE_ERROR);
      }
      await db
        .update(gradingRuns)
        .set({
          state: 'placed',
          executor: node.kind,
          nodeName: node.name,
          region: node.region,
          zone: node.zone,
          carbonZone: carbonZone(node.region),
          placedAt: new Date(),
        })
        .where(eq(gradingRuns.id, input.runId));
      await ledger.start(input.runId, Date.now());
      // Its slot counts on the node like a queued claim's, and is released on the same paths.
      await recordDirectClaim(db, {
        runId: input.runId,
        lane: 'live',
        nodeName: node.name,
        region: node.region,
      });
      return placementFor(config, node);
    },
  };
}

export type PlacementActivities = ReturnType<typeof createPlacementActivities>;
