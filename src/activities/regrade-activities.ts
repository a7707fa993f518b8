import { and, asc, eq, gt } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { latestStoredPayloads } from '../db/regrade-items.js';
import { regradeBatches, regradeBatchItems } from '../db/schema.js';
import { activityLogger } from '../observability/activity-logger.js';
import {
  regradeChildWorkflowId,
  type RegradeBatchState,
  type RegradeItem,
  type RegradeScope,
} from '../shared/regrade-types.js';

/** Rows per INSERT when a batch lists its submissions: well under PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK = 1000;

export interface OpenRegradeBatchInput {
  batchId: string;
  workflowId: string;
  scope: RegradeScope;
  scopeId: number;
}

/** The I/O of a bulk regrade: the list of its submissions and its row; the parent workflow drives the rest. */
export function createRegradeActivities(db: Database) {
  return {
    /**
     * Records the batch and lists its submissions once, in one transaction; returns how many. Idempotent: a retry
     * (or a later run of the same batch) finds the row and keeps the list it has.
     */
    async openRegradeBatch(input: OpenRegradeBatchInput): Promise<{ total: number }> {
      const payloads = await latestStoredPayloads(db, input.scope, input.scopeId);
      return db.transaction(async (tx) => {
        const inserted = await tx
          .insert(regradeBatches)
          .values({
            id: input.batchId,
            workflowId: input.workflowId,
            scope: input.scope,
            scopeId: input.scopeId,
            total: payloads.length,
          })
          .onConflictDoNothing()
          .returning({ total: regradeBatches.total });
        if (inserted.length === 0) {
          const [existing] = await tx
            .select({ total: regradeBatches.total })
            .from(regradeBatches)
            .where(eq(regradeBatches.id, input.batchId));
          return { total: existing?.total ?? 0 };
        }
        for (let start = 0; start < payloads.length; start += INSERT_CHUNK) {
          await tx.insert(regradeBatchItems).values(
            payloads.slice(start, start + INSERT_CHUNK).map((payload, index) => ({
              batchId: input.batchId,
              position: start + index + 1,
              ...payload,
              childWorkflowId: regradeChildWorkflowId(payload.payloadSha256, input.batchId),
            })),
          );
        }
        activityLogger({ batchId: input.batchId }).info('regrade batch opened', {
          scope: input.scope,
          scopeId: input.scopeId,
          total: payloads.length,
        });
        return { total: payloads.length };
      });
    },

    /** The next `limit` submissions after `afterPosition`, in order. */
    async listRegradeItems(input: { batchId: string; afterPosition: number; limit: number }): Promise<RegradeItem[]> {
      return db
        .select({
          position: regradeBatchItems.position,
          payloadSha256: regradeBatchItems.payloadSha256,
          childWorkflowId: regradeBatchItems.childWorkflowId,
        })
        .from(regradeBatchItems)
        .where(and(eq(regradeBatchItems.batchId, input.batchId), gt(regradeBatchItems.position, input.afterPosition)))
        .orderBy(asc(regradeBatchItems.position))
        .limit(input.limit);
    },

    /** Marks the batch finished (completed or cancelled). */
    async finishRegradeBatch(input: { batchId: string; state: Exclude<RegradeBatchState, 'running'> }): Promise<void> {
      await db
        .update(regradeBatches)
        .set({ state: input.state, finishedAt: new Date() })
        .where(eq(regradeBatches.id, input.batchId));
    },
  };
}

export type RegradeActivities = ReturnType<typeof createRegradeActivities>;
