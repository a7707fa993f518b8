import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns, rawPayloads, rejectedMessages } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';
import { countRejectedMessage, metrics } from '../observability/metrics.js';
import {
  GRADE_SUBMISSION_WORKFLOW,
  ingestWorkflowId,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
} from '../shared/grading-types.js';
import { checkPayload } from './payload-checks.js';

/** Bytes of an oversized message kept for inspection: enough to see what it was. */
const OVERSIZED_SAMPLE_BYTES = 64 * 1024;

export type Acceptance = 'started' | 'duplicate' | 'rejected';

export interface PayloadAcceptorDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  maxPayloadBytes: number;
  receiverIp: string | null;
  logger: Logger;
}

/**
 * Stores one message durably and starts its workflow. Resolves only when both are done, so the
 * bridge acknowledges the message to the broker only then; throws on a fault worth redelivering.
 */
export function createPayloadAcceptor(deps: PayloadAcceptorDeps) {
  return async function acceptPayload(topic: string, bytes: Buffer, receivedAt = new Date()): Promise<Acceptance> {
    metrics.messagesReceived.inc();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const log = deps.logger.child({ sha256, topic, sizeBytes: bytes.length });
    const rejection = checkPayload(bytes, deps.maxPayloadBytes);
    if (rejection) {
      const truncated = bytes.length > deps.maxPayloadBytes;
      await deps.db.insert(rejectedMessages).values({
        topic,
        sizeBytes: bytes.length,
        bytes: truncated ? bytes.subarray(0, OVERSIZED_SAMPLE_BYTES) : bytes,
        truncated,
        sha256,
        rejectionCode: rejection.code,
        rejectionReason: rejection.reason,
      });
      countRejectedMessage(rejection.code);
      log.warn('message rejected', { ...rejection });
      return 'rejected';
    }

    const inserted = await deps.db
      .insert(rawPayloads)
      .values({ sha256, bytes, sizeBytes: bytes.length, topic, receiverIp: deps.receiverIp, receivedAt })
      .onConflictDoNothing({ target: rawPayloads.sha256 })
      .returning({ sha256: rawPayloads.sha256 });
    const workflowId = ingestWorkflowId(sha256);
    // Temporal forgets closed workflows after its retention period; the run row does not.
    if (inserted.length === 0 && (await runExists(deps.db, workflowId))) {
      log.info('duplicate delivery, already graded or grading', { workflowId });
      return 'duplicate';
    }
    const input: GradeSubmissionInput = {
      payloadSha256: sha256,
      trigger: 'ingest',
      receivedAt: receivedAt.toISOString(),
    };
    try {
      await deps.temporal.workflow.start<(input: GradeSubmissionInput) => Promise<GradeSubmissionResult>>(
        GRADE_SUBMISSION_WORKFLOW,
        {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        },
      );
    } catch (error) {
      // At-least-once delivery: the same bytes again are a success, not an error.
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        log.info('duplicate delivery, workflow already exists', { workflowId });
        return 'duplicate';
      }
      throw error;
    }
    metrics.workflowsStarted.inc();
    log.info('workflow started', { workflowId });
    return 'started';
  };
}

async function runExists(db: Database, workflowId: string): Promise<boolean> {
  const rows = await db
    .select({ id: gradingRuns.id })
    .from(gradingRuns)
    .where(eq(gradingRuns.workflowId, workflowId))
    .limit(1);
  return rows.length > 0;
}
