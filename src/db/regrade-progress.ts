import { desc, eq, sql } from 'drizzle-orm';
import { CANCELLED_REASON } from '../shared/grading-types.js';
import type { RegradeBatchState, RegradeScope } from '../shared/regrade-types.js';
import type { Database } from './client.js';
import { gradingRuns, regradeBatches, regradeBatchItems } from './schema.js';

/**
 * Where the submissions of a batch stand, from their run rows. `queued`: not started yet, or waiting for a greener
 * hour or a slot; `running`: placed on a node, running or being recorded; `graded`: the run completed (whatever the
 * student's score); `failed`: GreenGrader could not grade it, or the payload was rejected; `cancelled`: cancelled
 * with the batch, including those the batch never started.
 */
export interface RegradeCounts {
  total: number;
  queued: number;
  running: number;
  graded: number;
  failed: number;
  cancelled: number;
}

export interface RegradeBatchProgress {
  batchId: string;
  workflowId: string;
  scope: RegradeScope;
  scopeId: number;
  state: RegradeBatchState;
  createdAt: Date;
  finishedAt: Date | null;
  counts: RegradeCounts;
}

/** The progress of one batch; null when no batch has that id. */
export async function regradeBatchProgress(db: Database, batchId: string): Promise<RegradeBatchProgress | null> {
  const [found] = await progressQuery(db).where(eq(regradeBatches.id, batchId));
  return found ? toProgress(found) : null;
}

/** The latest batches, newest first, with their progress (the dashboard's list). */
export async function listRegradeBatches(db: Database, limit: number): Promise<RegradeBatchProgress[]> {
  const rows = await progressQuery(db).orderBy(desc(regradeBatches.createdAt)).limit(limit);
  return rows.map(toProgress);
}

function progressQuery(db: Database) {
  // A run row appears once its child has started; before that the item has none (left join gives nulls).
  // coalesce: for an item without a run row the comparisons are null, and `not null` would drop it from every count.
  const isCancelled = sql`coalesce((${gradingRuns.state} = 'failed' and ${gradingRuns.failureReason} = ${CANCELLED_REASON})
    or (${gradingRuns.id} is null and ${regradeBatches.state} = 'cancelled'), false)`;
  // count(position), not count(*): a batch without items still has its one left-joined row of nulls.
  const count = (condition: ReturnType<typeof sql>) =>
    sql<number>`count(${regradeBatchItems.position}) filter (where ${condition})::int`;
  return db
    .select({
      batchId: regradeBatches.id,
      workflowId: regradeBatches.workflowId,
      scope: regradeBatches.scope,
      scopeId: regradeBatches.scopeId,
      state: regradeBatches.state,
      createdAt: regradeBatches.createdAt,
      finishedAt: regradeBatches.finishedAt,
      total: regradeBatches.total,
      cancelled: count(isCancelled),
      queued: count(sql`not (${isCancelled}) and (${gradingRuns.id} is null or ${gradingRuns.state} = 'queued')`),
      running: count(sql`${gradingRuns.state} in ('placed', 'running', 'recording')`),
      graded: count(sql`${gradingRuns.state} = 'completed'`),
      failed: count(
        sql`${gradingRuns.state} = 'rejected' or (${gradingRuns.state} = 'failed' and not (${isCancelled}))`,
      ),
    })
    .from(regradeBatches)
    .leftJoin(regradeBatchItems, eq(regradeBatchItems.batchId, regradeBatches.id))
    .leftJoin(gradingRuns, eq(gradingRuns.workflowId, regradeBatchItems.childWorkflowId))
    .groupBy(regradeBatches.id)
    .$dynamic();
}

type ProgressRow = Awaited<ReturnType<typeof progressQuery>>[number];

function toProgress(row: ProgressRow): RegradeBatchProgress {
  const { total, queued, running, graded, failed, cancelled, ...batch } = row;
  return { ...batch, counts: { total, queued, running, graded, failed, cancelled } };
}
