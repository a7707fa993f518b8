import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { inArray, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { rawPayloads } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';
import { metrics } from '../observability/metrics.js';
import {
  GRADE_SUBMISSION_WORKFLOW,
  ingestWorkflowId,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
} from '../shared/grading-types.js';

export interface WorkflowStarterOptions {
  db: Database;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
  /** Pending rows claimed, and workflows started concurrently, per round. */
  batchSize?: number;
  /** How often an idle loop looks for rows another bridge process (or a crash) left pending. */
  idlePollMs?: number;
}

export interface RunningWorkflowStarter {
  /** Wakes the loop at once: rows were just committed. */
  poke(): void;
  stop(): Promise<void>;
}

/**
 * Backoff while Temporal (or the database) fails: ingestion goes on meanwhile, the rows wait in the table. Capped
 * at 2 s, so a returning Temporal gets its backlog promptly; a failed round costs one refused call per row.
 */
const RETRY_DELAYS_MS = [200, 500, 1000, 2000];

/**
 * Starts the GradeSubmission workflow of every payload row still pending, then marks it started: the outbox
 * half of "acknowledge once committed". Several bridges share the table safely: each round claims its rows
 * with `FOR UPDATE SKIP LOCKED`, and a start that finds its workflow id taken (a crash after the start but
 * before the mark) counts as done, so no workflow is lost or started twice.
 */
export function startWorkflowStarter(options: WorkflowStarterOptions): RunningWorkflowStarter {
  const log = options.logger.child({ component: 'workflow-starter' });
  const batchSize = options.batchSize ?? 100;
  let stopping = false;
  let wake: (() => void) | undefined;
  let poked = false;

  const nap = async (ms: number) => {
    if (poked) return;
    const controller = new AbortController();
    wake = () => controller.abort();
    await sleep(ms, undefined, { signal: controller.signal }).catch(() => undefined);
    wake = undefined;
  };

  const loop = async () => {
    let failures = 0;
    while (!stopping) {
      poked = false;
      try {
        const claimed = await startPendingBatch(options, batchSize, log);
        failures = 0;
        if (claimed < batchSize) await nap(options.idlePollMs ?? 1000);
      } catch (error) {
        const delay = RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)] ?? 2000;
        failures += 1;
        log.warn('could not start pending workflows; retrying', { error, attempt: failures, delay });
        await sleep(delay);
      }
    }
  };
  const running = loop();

  return {
    poke() {
      poked = true;
      wake?.();
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
    },
  };
}

/** One round: claims up to `limit` pending rows, starts their workflows, marks the started ones. */
async function startPendingBatch(options: WorkflowStarterOptions, limit: number, log: Logger): Promise<number> {
  const round = await options.db.transaction(async (tx) => {
    const rows = await tx
      .select({ sha256: rawPayloads.sha256, receivedAt: rawPayloads.receivedAt })
      .from(rawPayloads)
      .where(isNull(rawPayloads.workflowStartedAt))
      .orderBy(rawPayloads.receivedAt)
      .limit(limit)
      .for('update', { skipLocked: true });
    const results = await Promise.allSettled(rows.map((row) => startOne(options, row.sha256, row.receivedAt)));
    const started = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((row) => row.sha256);
    if (started.length > 0) {
      await tx.update(rawPayloads).set({ workflowStartedAt: new Date() }).where(inArray(rawPayloads.sha256, started));
    }
    // The marks of what did start commit; the rest stay pending for the next round.
    const failure = results.find((result) => result.status === 'rejected');
    return { claimed: rows.length, started: started.length, failure };
  });
  if (round.failure) {
    log.debug('some starts failed', { claimed: round.claimed, started: round.started });
    throw round.failure.reason;
  }
  return round.claimed;
}

/** Starts one ingest workflow; an existing one with its id is success (started before a crash, or by a peer). */
async function startOne(options: WorkflowStarterOptions, sha256: string, receivedAt: Date): Promise<void> {
  const workflowId = ingestWorkflowId(sha256);
  const input: GradeSubmissionInput = {
    payloadSha256: sha256,
    trigger: 'ingest',
    receivedAt: receivedAt.toISOString(),
  };
  try {
    await options.temporal.workflow.start<(input: GradeSubmissionInput) => Promise<GradeSubmissionResult>>(
      GRADE_SUBMISSION_WORKFLOW,
      {
        workflowId,
        taskQueue: options.taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      },
    );
    metrics.workflowsStarted.inc();
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    throw error;
  }
}
