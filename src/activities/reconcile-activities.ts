import { WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { and, asc, eq, isNotNull, isNull, lt, notInArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns, runSlotClaims } from '../db/schema.js';
import { releaseReservationsOfFinishedRuns } from '../db/reservations.js';
import { finishedRunsHoldingClaims } from '../db/slot-claims.js';
import { serviceOrder } from '../db/slot-service-order.js';
import { activityLogger } from '../observability/activity-logger.js';
import { countReconciledRun, type ReconciledWorkflowStatus } from '../observability/metrics.js';
import type { RunState } from '../shared/run-state.js';
import type { ReleaseSlot } from './slot-release.js';

/** Row states a workflow leaves behind on purpose; any other state means its workflow still owes a result. */
const FINAL_STATES: RunState[] = ['completed', 'failed', 'rejected'];

/** Statuses of a closed workflow: it will write its row no more. RUNNING and PAUSED may still write it. */
const CLOSED: Partial<Record<WorkflowExecutionStatusName, ReconciledWorkflowStatus>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'continued_as_new',
};

export interface ReconcileOptions {
  /** Rows younger than this are left alone: their workflow may still be starting. */
  graceSec: number;
  /** Rows looked at per run; the rest wait for the next one. */
  batchSize: number;
}

const DEFAULTS: ReconcileOptions = { graceSec: 60, batchSize: 500 };

/** Slot holders looked at per run, every run: at most the fleet's slots and prefetch places, so few. */
const HOLDERS_MAX = 2_000;
/** Runs looked at per region from the head of its queue, every run (at most `batchSize` in all). */
const HEADS_PER_REGION = 50;

/** An unfinished run row to look at: its workflow may have closed without recording a result. */
interface RunToCheck extends Record<string, unknown> {
  id: string;
  workflowId: string;
  state: RunState;
  receivedAt: string;
}

export interface ReconciledRun {
  runId: string;
  workflowId: string;
  workflowStatus: ReconciledWorkflowStatus;
  reason: string;
}

/**
 * Finds run rows whose workflow ended (terminated, timed out, failed before it could say so) or is unknown to
 * Temporal, and marks them failed: such a row would otherwise hold its node's slot for good.
 */
export function createReconcileActivities(
  db: Database,
  temporal: Client,
  release: ReleaseSlot,
  options: Partial<ReconcileOptions> = {},
) {
  const { graceSec, batchSize } = { ...DEFAULTS, ...options };
  /**
   * Where the last batch ended, in the database's own precision (a JS Date would drop the microseconds). With more
   * unfinished rows than a batch, each run goes on from there, so a backlog of queued runs older than the rest
   * cannot keep the same first batch in view forever; after the newest row it starts over from the oldest.
   */
  let after: { receivedAt: string; id: string } | null = null;

  /** The workflow's status when it is closed; null while it is open; `not_found` when Temporal has no such id. */
  async function closedStatus(workflowId: string): Promise<ReconciledWorkflowStatus | null> {
    try {
      const description = await temporal.workflow.getHandle(workflowId).describe();
      return CLOSED[description.status.name] ?? null;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'not_found';
      throw error;
    }
  }

  return {
    /** Marks failed every unfinished run row (older than the grace period) whose workflow is closed or unknown. */
    async reconcileRuns(): Promise<{
      checked: number;
      fixed: ReconciledRun[];
      releasedClaims: number;
      releasedReservations: number;
    }> {
      const unfinished = and(
        notInArray(gradingRuns.state, FINAL_STATES),
        lt(gradingRuns.receivedAt, new Date(Date.now() - graceSec * 1000)),
      );
      const columns = {
        id: gradingRuns.id,
        workflowId: gradingRuns.workflowId,
        state: gradingRuns.state,
        receivedAt: sql<string>`${gradingRuns.receivedAt}::text`,
      };
      // First, every run holding a slot and the first runs in line in each region (the queue's own order): a
      // terminated one there holds a node's slot, or counts ahead of every run behind it and takes their wake-ups.
      // Behind a backlog of 10,000 unfinished rows the cursor below would reach it only after 20 runs (100 minutes
      // at the default interval).
      const holders = await db
        .select(columns)
        .from(runSlotClaims)
        .innerJoin(gradingRuns, eq(gradingRuns.id, runSlotClaims.runId))
        .where(and(isNull(runSlotClaims.releasedAt), isNotNull(runSlotClaims.nodeName), unfinished))
        .limit(HOLDERS_MAX);
      const { rows: inLine } = await db.execute<RunToCheck>(sql`
        with ${serviceOrder()}, heads as (
          select o.run_id, o.position,
            row_number() over (partition by ${runSlotClaims.region} order by o.position) as place
          from service_order o join ${runSlotClaims} on ${runSlotClaims.runId} = o.run_id
        )
        select ${gradingRuns.id} as id, ${gradingRuns.workflowId} as "workflowId", ${gradingRuns.state} as state,
          ${gradingRuns.receivedAt}::text as "receivedAt"
        from heads join ${gradingRuns} on ${gradingRuns.id} = heads.run_id
        where heads.place <= ${HEADS_PER_REGION} and ${unfinished}
        order by heads.position
        limit ${batchSize}`);
      const rows = await db
        .select(columns)
        .from(gradingRuns)
        .where(
          and(
            unfinished,
            after
              ? sql`(${gradingRuns.receivedAt}, ${gradingRuns.id}) > (${after.receivedAt}::timestamptz, ${after.id}::uuid)`
              : undefined,
          ),
        )
        .orderBy(asc(gradingRuns.receivedAt), asc(gradingRuns.id))
        .limit(batchSize);
      const last = rows.at(-1);
      after = rows.length === batchSize && last ? { receivedAt: last.receivedAt, id: last.id } : null;
      const first: RunToCheck[] = [...holders, ...inLine];
      const toCheck = [...new Map([...first, ...rows].map((row) => [row.id, row])).values()];
      const fixed: ReconciledRun[] = [];
      for (const row of toCheck) {
        const workflowStatus = await closedStatus(row.workflowId);
        if (workflowStatus === null) continue;
        const reason =
          workflowStatus === 'not_found'
            ? 'workflow unknown to Temporal; no result was recorded'
            : `workflow ${workflowStatus.toUpperCase()} without recording a result`;
        // Only a row still unfinished: its workflow may have finished it since the select.
        const updated = await db
          .update(gradingRuns)
          .set({ state: 'failed', outcome: 'infrastructure-failure', failureReason: reason, recordedAt: new Date() })
          .where(and(eq(gradingRuns.id, row.id), notInArray(gradingRuns.state, FINAL_STATES)))
          .returning({ id: gradingRuns.id });
        if (updated.length === 0) continue;
        await release(row.id);
        countReconciledRun(workflowStatus);
        activityLogger({ runId: row.id }).warn('reconciled a run its workflow left unfinished', {
          workflowId: row.workflowId,
          previousState: row.state,
          workflowStatus,
          reason,
        });
        fixed.push({ runId: row.id, workflowId: row.workflowId, workflowStatus, reason });
      }
      // A claim left held by a run that ended before claims were released on every path. Released one by one
      // through the waking release: the runs queued for that slot would otherwise sleep until their fallback poll.
      // A release and its wake-up take a few round trips each: at most HOLDERS_MAX of them per pass.
      let releasedClaims = 0;
      for (const runId of await finishedRunsHoldingClaims(db, FINAL_STATES, HOLDERS_MAX)) {
        if (await release(runId)) releasedClaims += 1;
      }
      // Likewise a reservation over time: a finished run must not hold capacity in later plans.
      const releasedReservations = await releaseReservationsOfFinishedRuns(db, FINAL_STATES);
      return { checked: toCheck.length, fixed, releasedClaims, releasedReservations };
    },
  };
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
