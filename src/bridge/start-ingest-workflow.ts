import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { metrics } from '../observability/metrics.js';
import {
  GRADE_SUBMISSION_WORKFLOW,
  ingestWorkflowId,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
} from '../shared/grading-types.js';
import type { ClaimedStart } from './start-claims.js';

/**
 * One start call gives up after this long, retries by the client's interceptor included: a start takes
 * milliseconds, so one still unanswered is stuck on a dying connection, and its row should go back to the table
 * well inside its lease.
 */
const START_DEADLINE_MS = 10_000;

/**
 * Starts one ingest workflow; an existing one with its id is success (started before a crash, or by a peer).
 * `eager` asks the server to hand the first workflow task back in the answer: only a client on a NativeConnection
 * may ask, and its Core gives the task to a worker of this process polling `taskQueue` when one has a free slot.
 */
export async function startIngestWorkflow(
  temporal: Client,
  taskQueue: string,
  row: ClaimedStart,
  eager = false,
): Promise<void> {
  const input: GradeSubmissionInput = {
    payloadSha256: row.sha256,
    trigger: 'ingest',
    receivedAt: row.receivedAt.toISOString(),
  };
  try {
    const handle = await temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      temporal.workflow.start<(input: GradeSubmissionInput) => Promise<GradeSubmissionResult>>(
        GRADE_SUBMISSION_WORKFLOW,
        {
          workflowId: ingestWorkflowId(row.sha256),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          requestEagerStart: eager,
        },
      ),
    );
    metrics.workflowsStarted.inc();
    if (handle.eagerlyStarted) metrics.workflowsStartedEagerly.inc();
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    throw error;
  }
}
