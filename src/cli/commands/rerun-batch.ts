import type { Client, WorkflowHandle } from '@temporalio/client';
import type { WorkflowIdReusePolicy } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../config/config.js';
import type { Database } from '../../db/client.js';
import { countRegradable } from '../../db/regrade-items.js';
import { regradeBatchProgress, type RegradeBatchProgress, type RegradeCounts } from '../../db/regrade-progress.js';
import {
  DEFAULT_REGRADE_CHILDREN_PER_RUN,
  DEFAULT_REGRADE_MAX_IN_FLIGHT,
  DEFAULT_REGRADE_PAGE_SIZE,
  REGRADE_BATCH_WORKFLOW,
  regradeBatchId,
  regradeWorkflowId,
  type RegradeBatchInput,
  type RegradeScope,
} from '../../shared/regrade-types.js';
import { withDatabase } from '../database.js';
import { CliError, USAGE_EXIT_CODE } from '../errors.js';
import { writeJson, writeOut, writeProgress } from '../output/write.js';
import { withTemporal } from '../temporal.js';

/** How often `--wait` reads a batch's progress. */
const PROGRESS_INTERVAL_MS = 1000;

export interface BatchOptions {
  assignment?: number;
  course?: number;
  again?: boolean;
  cancel?: boolean;
  maxInFlight?: number;
  payload?: string;
  expedite?: boolean;
  wait?: boolean;
  json?: boolean;
}

export interface BatchScope {
  scope: RegradeScope;
  scopeId: number;
}

/**
 * What `rerun --assignment/--course` did: `started` a new batch, `attached` to the one already running,
 * found it `finished` (a new one needs `--again`), `cancel-requested`, or found nothing `not-running` to cancel.
 */
type RerunBatchAction = 'started' | 'attached' | 'finished' | 'cancel-requested' | 'not-running';

/** `greengrader rerun --assignment ID --json` (and `--course`). */
export interface RerunBatchOutput {
  action: RerunBatchAction;
  scope: RegradeScope;
  scopeId: number;
  /** The parent workflow: `regrade-<scope>-<id>`. */
  workflowId: string;
  /** The batch's key (`<scope>-<id>-<epoch ms>`), part of each child's id `grade-<sha256>-regrade-<batch id>`. */
  batchId: string | null;
  /** Temporal's status of the parent: RUNNING, COMPLETED, CANCELLED, TERMINATED, FAILED, …; null if unknown. */
  workflowStatus: string | null;
  /** The batch row's state (running, completed, cancelled) and its counts; null until the batch has opened. */
  state: RegradeBatchProgress['state'] | null;
  counts: RegradeCounts | null;
}

/** The batch `rerun` was asked for, or null for a single submission; refuses flags that do not go together. */
export function batchScopeOf(submissionId: number | undefined, options: BatchOptions): BatchScope | null {
  const targets = [submissionId, options.assignment, options.course].filter((value) => value !== undefined);
  if (targets.length > 1) {
    throw new CliError('give one of SUBMISSION_ID, --assignment ID or --course ID', USAGE_EXIT_CODE);
  }
  const scope: BatchScope | null =
    options.assignment !== undefined
      ? { scope: 'assignment', scopeId: options.assignment }
      : options.course !== undefined
        ? { scope: 'course', scopeId: options.course }
        : null;
  if (scope === null && (options.again || options.cancel || options.maxInFlight !== undefined)) {
    throw new CliError('--again, --cancel and --max-in-flight go with --assignment ID or --course ID', USAGE_EXIT_CODE);
  }
  if (scope !== null && (options.payload !== undefined || options.expedite)) {
    throw new CliError('--payload and --expedite act on one submission: give its SUBMISSION_ID', USAGE_EXIT_CODE);
  }
  if (options.again && options.cancel) throw new CliError('--again and --cancel exclude each other', USAGE_EXIT_CODE);
  return scope;
}

/** `rerun --assignment ID` / `--course ID`: start, attach to, or cancel the scope's regrade batch. */
export async function runBatchCommand(target: BatchScope, options: BatchOptions): Promise<void> {
  const config = loadConfig();
  const output = await withTemporal(config, (client) =>
    withDatabase(config, async (db) => {
      const handle = client.workflow.getHandle(regradeWorkflowId(target.scope, target.scopeId));
      const action = options.cancel
        ? await cancelBatch(handle, target)
        : await startOrAttach(client, db, config, target, options);
      let view = await describeBatch(db, handle, target, action);
      if (!options.json) writeOut(describeAction(view));
      if (options.wait && view.workflowStatus === 'RUNNING') view = await waitWithProgress(db, handle, view);
      return view;
    }),
  );
  if (options.json) writeJson(output);
  else if (options.wait) writeOut(describeCounts(output));
  const expected = options.cancel ? ['CANCELLED', 'COMPLETED'] : ['COMPLETED'];
  if (options.wait && (!expected.includes(output.workflowStatus ?? '') || (output.counts?.failed ?? 0) > 0)) {
    process.exitCode = 1;
  }
}

async function startOrAttach(
  client: Client,
  db: Database,
  config: Config,
  target: BatchScope,
  options: BatchOptions,
): Promise<RerunBatchAction> {
  const total = await countRegradable(db, target.scope, target.scopeId);
  if (total === 0) {
    throw new CliError(`no stored submissions of ${target.scope} ${target.scopeId} (see \`greengrader list\`)`);
  }
  const batchId = regradeBatchId(target.scope, target.scopeId, new Date());
  const input: RegradeBatchInput = {
    batchId,
    ...target,
    pageSize: DEFAULT_REGRADE_PAGE_SIZE,
    maxInFlight: options.maxInFlight ?? DEFAULT_REGRADE_MAX_IN_FLIGHT,
    childrenPerRun: DEFAULT_REGRADE_CHILDREN_PER_RUN,
  };
  try {
    await client.workflow.start(REGRADE_BATCH_WORKFLOW, {
      workflowId: regradeWorkflowId(target.scope, target.scopeId),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [input],
      // Once a batch of this scope has closed, only --again starts another; while one runs, none (below).
      workflowIdReusePolicy: (options.again ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE') satisfies WorkflowIdReusePolicy,
      // The batch id is in the memo from the start, before the workflow's first task writes its own.
      memo: { regrade: { batchId, state: 'running', total, started: 0, graded: 0, failed: 0, cancelled: 0 } },
    });
    return 'started';
  } catch (error) {
    // Already loaded by withTemporal (src/cli/temporal.ts loads the client on use): this only names the class.
    const { WorkflowExecutionAlreadyStartedError } = await import('@temporalio/client');
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const { status } = await client.workflow.getHandle(error.workflowId).describe();
    return status.name === 'RUNNING' ? 'attached' : 'finished';
  }
}

async function cancelBatch(handle: WorkflowHandle, target: BatchScope): Promise<RerunBatchAction> {
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return 'not-running';
  } catch (error) {
    const { WorkflowNotFoundError } = await import('@temporalio/client');
    if (error instanceof WorkflowNotFoundError) {
      throw new CliError(`no regrade batch of ${target.scope} ${target.scopeId} (workflow ${handle.workflowId})`);
    }
    throw error;
  }
  await handle.cancel();
  return 'cancel-requested';
}

/** The parent's status from Temporal and the counts from the run rows of its children. */
async function describeBatch(
  db: Database,
  handle: WorkflowHandle,
  target: BatchScope,
  action: RerunBatchAction,
): Promise<RerunBatchOutput> {
  const description = await handle.describe();
  const batchId = batchIdOf(description.memo);
  const progress = batchId === null ? null : await regradeBatchProgress(db, batchId);
  return {
    action,
    ...target,
    workflowId: handle.workflowId,
    batchId,
    workflowStatus: description.status.name,
    state: progress?.state ?? null,
    counts: progress?.counts ?? null,
  };
}

function batchIdOf(memo: Record<string, unknown> | undefined): string | null {
  const regrade = memo?.['regrade'];
  if (typeof regrade !== 'object' || regrade === null || !('batchId' in regrade)) return null;
  return typeof regrade.batchId === 'string' ? regrade.batchId : null;
}

/** Prints the counts (stderr) whenever they change, until the batch's workflow closes; returns the final view. */
async function waitWithProgress(
  db: Database,
  handle: WorkflowHandle,
  view: RerunBatchOutput,
): Promise<RerunBatchOutput> {
  let closed = false;
  // Follows the batch across continue-as-new; a cancelled or failed batch is read below, not thrown.
  const result = handle.result().then(
    () => (closed = true),
    () => (closed = true),
  );
  let last = '';
  let current = view;
  for (;;) {
    const line = current.counts === null ? 'opening the batch' : describeCounts(current);
    if (line !== last) writeProgress(`${new Date().toISOString().slice(11, 19)}  ${line}`);
    last = line;
    if (closed) break;
    await Promise.race([result, sleep(PROGRESS_INTERVAL_MS)]);
    current = await describeBatch(db, handle, view, view.action);
  }
  // The batch may have closed while the last view was being read: read it once more, after the close.
  const final = await describeBatch(db, handle, view, view.action);
  const line = describeCounts(final);
  if (line !== last) writeProgress(`${new Date().toISOString().slice(11, 19)}  ${line}`);
  return final;
}

function describeAction(view: RerunBatchOutput): string {
  const what = `${view.scope} ${view.scopeId}`;
  const batch = `batch ${view.batchId ?? '?'} (workflow ${view.workflowId})`;
  switch (view.action) {
    case 'started':
      return `regrading every stored submission of ${what}: ${batch}`;
    case 'attached':
      return `a regrade of ${what} is already running: ${batch}; following it`;
    case 'finished':
      return `the last regrade of ${what} ended ${view.workflowStatus ?? '?'}: ${batch}; --again starts a new one`;
    case 'cancel-requested':
      return `cancelling the regrade of ${what}: ${batch}; graded submissions stay graded`;
    case 'not-running':
      return `no regrade of ${what} is running; the last one ended ${view.workflowStatus ?? '?'}: ${batch}`;
  }
}

function describeCounts(view: RerunBatchOutput): string {
  const c = view.counts;
  if (c === null) return `${view.workflowStatus ?? '?'}: no counts yet`;
  return `${view.workflowStatus ?? '?'} ${c.total} submissions: ${c.queued} queued, ${c.running} running, ${c.graded} graded, ${c.failed} failed, ${c.cancelled} cancelled`;
}
