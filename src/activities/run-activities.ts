import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns } from '../db/schema.js';
import type { RunTrigger } from '../shared/grading-types.js';
import type { ReleaseSlot } from './slot-release.js';

export interface OpenRunInput {
  workflowId: string;
  payloadSha256: string;
  trigger: RunTrigger;
  receivedAt: string;
}

/**
 * The run row is the operator's view of one grading journey; these activities open and close it. A run that ends
 * or leaves its node gives its slot back through `release`, which wakes the runs queued for it.
 */
export function createRunActivities(db: Database, release: ReleaseSlot) {
  // Built once, sent by name: every run opens its row once.
  const openRunInsert = db
    .insert(gradingRuns)
    .values({
      workflowId: sql.placeholder('workflowId'),
      payloadSha256: sql.placeholder('payloadSha256'),
      trigger: sql.placeholder('trigger'),
      receivedAt: sql.placeholder('receivedAt'),
    })
    .onConflictDoNothing({ target: gradingRuns.workflowId })
    .returning({ id: gradingRuns.id })
    .prepare('open_run');
  return {
    /** Opens the run row for this workflow; a retried or replayed call finds the same row. */
    async openRun(input: OpenRunInput): Promise<string> {
      const [inserted] = await openRunInsert.execute({
        workflowId: input.workflowId,
        payloadSha256: input.payloadSha256,
        trigger: input.trigger,
        receivedAt: new Date(input.receivedAt),
      });
      if (inserted) return inserted.id;
      // A retry (or a replay's re-run): the row is there from before.
      const [row] = await db
        .select({ id: gradingRuns.id })
        .from(gradingRuns)
        .where(eq(gradingRuns.workflowId, input.workflowId));
      if (!row) throw new Error(`run row for ${input.workflowId} vanished after insert`);
      return row.id;
    },

    /** Marks a run failed for a reason that is GreenGrader's, not the student's. */
    async failRun(input: { runId: string; reason: string }): Promise<void> {
      await db
        .update(gradingRuns)
        .set({
          state: 'failed',
          outcome: 'infrastructure-failure',
          failureReason: input.reason,
          recordedAt: sql`now()`,
        })
        .where(eq(gradingRuns.id, input.runId));
      await release(input.runId);
    },

    /**
     * Gives a node that failed the run its slot back: the row is queued again with no node, so placement stops
     * counting it on that node before another node claims it. Only the named node's claim is undone.
     */
    async releaseRun(input: { runId: string; nodeName: string }): Promise<void> {
      await db
        .update(gradingRuns)
        .set({ state: 'queued', nodeName: null, executor: null, region: null, zone: null, placedAt: null })
        .where(
          and(
            eq(gradingRuns.id, input.runId),
            eq(gradingRuns.nodeName, input.nodeName),
            inArray(gradingRuns.state, ['placed', 'running', 'recording']),
          ),
        );
      await release(input.runId, input.nodeName);
    },
  };
}

export type RunActivities = ReturnType<typeof createRunActivities>;
