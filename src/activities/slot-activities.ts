import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { resolveRegion, type RegionsConfig } from '../carbon/regions.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { gradingRuns, nodes, submissions } from '../db/schema.js';
import { createPostgresLedger } from '../db/reservations.js';
import { claimOrQueue } from '../db/slot-claims.js';
import { activityLogger } from '../observability/activity-logger.js';
import { NODE_GONE_ERROR, type Placement, type SlotClaim } from '../shared/grading-types.js';
import { laneOf, type RunLane } from '../shared/lanes.js';
import { spillAtMs } from '../shared/slot-spill.js';
import { findLiveNode, liveNodeColumns } from './live-nodes.js';
import { placementFor } from './placement-timeouts.js';
import { createSlotRelease, type WakeWaiters } from './slot-release.js';

/** The plan's spill order (CapacityPlan.spillOrder): node names, cleanest first. */
const spillOrderSchema = z.array(z.string());

/**
 * The queue for node slots: a run whose start has come claims a slot on a live node of its planned region, or
 * waits in its lane. Claims are atomic in PostgreSQL (see src/db/slot-claims.ts).
 */
export function createSlotActivities(db: Database, config: Config, regions: RegionsConfig, wake: WakeWaiters) {
  const liveSince = () => new Date(Date.now() - config.NODE_LIVENESS_SEC * 1000);
  const weights: Record<RunLane, number> = { live: config.LANE_WEIGHT_LIVE, regrade: config.LANE_WEIGHT_REGRADE };
  const ledger = createPostgresLedger(db);
  const release = createSlotRelease(db, config, wake);
  // Built once, sent by name: every claim reads the run and its planned node, and every granted claim places it.
  const runAndNodeQuery = db
    .select({
      trigger: gradingRuns.trigger,
      receivedAt: gradingRuns.receivedAt,
      dueDate: submissions.assignmentDueDate,
      lateDueDate: submissions.assignmentLateDueDate,
      deadlineAt: gradingRuns.deadlineAt,
      spillOrder: sql<unknown>`${gradingRuns.plan} -> 'spillOrder'`,
      plannedRegion: nodes.region,
    })
    .from(gradingRuns)
    .leftJoin(submissions, eq(submissions.id, gradingRuns.submissionId))
    .leftJoin(
      nodes,
      and(eq(nodes.name, sql.placeholder('nodeName')), gt(nodes.lastSeenAt, sql.placeholder('liveSince'))),
    )
    .where(eq(gradingRuns.id, sql.placeholder('runId')))
    .prepare('claim_slot_run_and_node');
  const placeOnLiveNode = db
    .update(gradingRuns)
    .set({
      state: 'placed',
      executor: sql`${nodes.kind}`,
      nodeName: sql`${nodes.name}`,
      region: sql`${nodes.region}`,
      zone: sql`${nodes.zone}`,
      carbonZone: sql`${sql.placeholder('carbonZone')}`,
      placedAt: sql`${sql.placeholder('placedAt')}::timestamptz`,
    })
    .from(nodes)
    .where(
      and(
        eq(gradingRuns.id, sql.placeholder('runId')),
        eq(nodes.name, sql.placeholder('nodeName')),
        gt(nodes.lastSeenAt, sql.placeholder('liveSince')),
      ),
    )
    .returning({ ...liveNodeColumns })
    .prepare('claim_slot_place');

  /**
   * The run's lane, the nodes it may spill to now (none before its spill time, src/shared/slot-spill.ts), its
   * spill time while that is still to come (null when it has passed or the run has nowhere to spill), and the
   * planned node's region while that node still checks in (null when it stopped): one read for both.
   */
  async function runAndPlannedNode(
    runId: string,
    nodeName: string,
  ): Promise<{ lane: RunLane; spillTo: string[]; spillAtMs: number | null; plannedRegion: string | null }> {
    const [run] = await runAndNodeQuery.execute({ runId, nodeName, liveSince: liveSince() });
    if (!run) throw new Error(`run ${runId} not found`);
    const lane = laneOf({
      trigger: run.trigger,
      receivedMs: run.receivedAt.getTime(),
      dueMs: run.dueDate?.getTime() ?? null,
      lateDueMs: run.lateDueDate?.getTime() ?? null,
    });
    const spillAt = run.deadlineAt === null ? null : spillAtMs(run.deadlineAt.getTime());
    const due = spillAt !== null && Date.now() >= spillAt;
    // Plans written before the spill order existed have none: such runs wait for their region as before.
    const order = spillOrderSchema.safeParse(run.spillOrder);
    const spillTo = order.success ? order.data : [];
    return {
      lane,
      spillTo: due ? spillTo : [],
      spillAtMs: !due && spillTo.length > 0 ? spillAt : null,
      plannedRegion: run.plannedRegion,
    };
  }

  async function wakeQuietly(runId: string, workflowIds: readonly string[]): Promise<void> {
    if (workflowIds.length === 0) return;
    try {
      await wake(workflowIds);
    } catch (error) {
      // Waiters poll too (SLOT_POLL_FALLBACK_MS), and the next release wakes whoever is first then.
      activityLogger({ runId }).warn('could not wake waiting runs', { error: String(error), workflowIds });
    }
  }

  return {
    /**
     * Claims a slot for the run on its planned node (or another live node of the same region when that one is
     * full), or queues it in its lane; an expedited run goes to the head of the queue (workflows from before the
     * field never send it). Throws a non-retryable NodeGone when the planned node stopped checking in.
     */
    async claimSlot(input: {
      runId: string;
      nodeName: string;
      excludeNodes: string[];
      expedite?: boolean;
    }): Promise<SlotClaim> {
      const { lane, spillTo, spillAtMs: spillAt, plannedRegion } = await runAndPlannedNode(input.runId, input.nodeName);
      if (plannedRegion === null) {
        // The run plans again, maybe for hours later or another region: its place in this queue goes now (a later
        // claim takes its old tag back), or it would count ahead of every run behind it and hold their free slots.
        await release(input.runId);
        throw ApplicationFailure.nonRetryable(`node ${input.nodeName} stopped checking in`, NODE_GONE_ERROR);
      }
      const outcome = await claimOrQueue(db, {
        spillTo,
        runId: input.runId,
        lane,
        laneWeight: weights[lane],
        preferredNode: { name: input.nodeName, region: plannedRegion },
        excludeNodes: input.excludeNodes,
        liveSince: liveSince(),
        expedite: input.expedite === true,
      });
      // The run row says expedited too (dashboard, status), also when the signal came after its planning.
      if (input.expedite === true) {
        await db.update(gradingRuns).set({ expedited: true }).where(eq(gradingRuns.id, input.runId));
      }
      if (outcome.kind === 'queued') return { kind: 'queued', lane, position: outcome.position, spillAtMs: spillAt };
      // Placed only if the node still checks in (one statement): one that stopped since gives the slot back.
      const [node] = await placeOnLiveNode.execute({
        runId: input.runId,
        nodeName: outcome.nodeName,
        liveSince: liveSince(),
        carbonZone: resolveRegion(regions, outcome.region)?.entry.zone ?? `unmapped:${outcome.region}`,
        placedAt: new Date(),
      });
      if (!node) {
        // The slot was just granted: the runs behind this one in the region may have a live node's slot now.
        await release(input.runId);
        throw ApplicationFailure.nonRetryable(`node ${outcome.nodeName} stopped checking in`, NODE_GONE_ERROR);
      }
      // The reservation becomes the running claim: it now covers the run from its real start, on the node it got
      // (a spilled run's booking moves there), and is held while the run outlasts it (src/shared/started-hold.ts).
      await ledger.start(input.runId, Date.now(), outcome.nodeName);
      await wakeQuietly(input.runId, outcome.wake);
      const placement: Placement = placementFor(config, node);
      return { kind: 'claimed', lane, placement };
    },

    /**
     * Gives the run's slot back and wakes the runs first in line for it. Says whether the node still checks in:
     * a live node that did not pick the run up was busy, not dead.
     */
    async releaseSlot(input: { runId: string; nodeName: string }): Promise<{ nodeLive: boolean }> {
      await release(input.runId, input.nodeName);
      return { nodeLive: (await findLiveNode(db, config.NODE_LIVENESS_SEC, input.nodeName)) !== null };
    },
  };
}

export type SlotActivities = ReturnType<typeof createSlotActivities>;
