import type { Client, WorkflowHandle } from '@temporalio/client';
import type { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../config/config.js';
import {
  GRADE_SUBMISSION_WORKFLOW,
  type GradeSubmissionInput,
  type GradeSubmissionResult,
  type GradingStatus,
} from '../../shared/grading-types.js';
import { DEFAULT_REGRADE_MAX_IN_FLIGHT } from '../../shared/regrade-types.js';
import { parsePositiveInt, parseSha256, parseSubmissionId } from '../arguments.js';
import { withDatabase } from '../database.js';
import { CliError } from '../errors.js';
import { formatScore, formatTime } from '../../shared/format.js';
import { writeJson, writeOut, writeProgress } from '../output/write.js';
import { findStoredPayload } from '../queries/find-submission.js';
import { withTemporal } from '../temporal.js';
import { batchScopeOf, runBatchCommand, type BatchOptions } from './rerun-batch.js';

/** Names the workflow defines with defineQuery/defineSignal (src/workflows/grade-submission.ts). */
const STATUS_QUERY = 'gradingStatus';
const EXPEDITE_SIGNAL = 'expedite';
/** The workflow's signature, for typed handles (the client never imports workflow code). */
type GradeSubmission = (input: GradeSubmissionInput) => Promise<GradeSubmissionResult>;
/** As a string, the value of @temporalio/common's enum: naming it needs no Temporal module at start. */
const REJECT_DUPLICATE: WorkflowIdReusePolicy = 'REJECT_DUPLICATE';
/** How often `--wait` asks the workflow where it stands. */
const PROGRESS_INTERVAL_MS = 1000;

/** `grade-<sha256>-rerun-<epoch ms>`: the payload's business key plus when the re-run was asked for. */
function rerunWorkflowId(payloadSha256: string, at: Date): string {
  return `grade-${payloadSha256}-rerun-${at.getTime()}`;
}

/** `greengrader rerun SUBMISSION_ID --json`. */
export interface RerunOutput {
  gradescopeSubmissionId: number;
  payloadSha256: string;
  workflowId: string;
  /** With `--wait`: how the run ended; otherwise null. */
  result: GradeSubmissionResult | null;
}

interface RerunOptions extends BatchOptions {
  payload?: string;
  expedite?: boolean;
  wait?: boolean;
  json?: boolean;
}

export function registerRerunCommand(program: Command): void {
  program
    .command('rerun')
    .description(
      'start a fresh grading run of a stored submission (what the original dispatcher did), or of every stored ' +
        'submission of an assignment or a course (a regrade batch)',
    )
    .argument('[submission-id]', "Gradescope's submission id (`id` in submission_metadata.json)", parseSubmissionId)
    .option('--payload <sha256>', 'which stored copy when Gradescope sent the submission more than once', parseSha256)
    .option('--expedite', 'start at once instead of waiting for a greener hour')
    .option('--assignment <id>', 'regrade every stored submission of this Gradescope assignment', parsePositiveInt)
    .option('--course <id>', 'regrade every stored submission of this Gradescope course', parsePositiveInt)
    .option('--again', 'with --assignment/--course: start a new batch even if one already finished')
    .option('--cancel', 'with --assignment/--course: cancel the running batch (graded submissions stay graded)')
    .option(
      '--max-in-flight <n>',
      `with --assignment/--course: submissions graded at once (default ${DEFAULT_REGRADE_MAX_IN_FLIGHT})`,
      parsePositiveInt,
    )
    .option('--wait', 'show progress, wait for the run (or the batch) to finish and print its result')
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (submissionId: number | undefined, options: RerunOptions) => {
      const scope = batchScopeOf(submissionId, options);
      if (scope !== null) return runBatchCommand(scope, options);
      if (submissionId === undefined) {
        throw new CliError('name a submission id, --assignment ID or --course ID (greengrader rerun --help)', 2);
      }
      return rerunOne(submissionId, options);
    });
}

async function rerunOne(submissionId: number, options: RerunOptions): Promise<void> {
  const config = loadConfig();
  const stored = await withDatabase(config, (db) => findStoredPayload(db, submissionId, options.payload));
  if (stored.storedCopies > 1 && options.payload === undefined) {
    writeProgress(
      `submission ${submissionId} was stored ${stored.storedCopies} times; re-running the latest copy (--payload picks another)`,
    );
  }
  const receivedAt = new Date();
  const workflowId = rerunWorkflowId(stored.payloadSha256, receivedAt);
  const input: GradeSubmissionInput = {
    payloadSha256: stored.payloadSha256,
    trigger: 'rerun',
    receivedAt: receivedAt.toISOString(),
  };
  const output: RerunOutput = {
    gradescopeSubmissionId: submissionId,
    payloadSha256: stored.payloadSha256,
    workflowId,
    result: null,
  };
  await withTemporal(config, async (client) => {
    const handle = await startRerun(client, config.TEMPORAL_TASK_QUEUE, workflowId, input, options.expedite);
    if (!options.json) {
      writeOut(`re-running submission ${submissionId} (payload ${stored.payloadSha256})\nworkflow ${workflowId}`);
    }
    if (options.wait) output.result = await waitWithProgress(handle);
  });
  if (options.json) writeJson(output);
  else if (output.result !== null) writeOut(describeResult(output.result));
  if (output.result !== null && output.result.state !== 'completed') process.exitCode = 1;
}

async function startRerun(
  client: Client,
  taskQueue: string,
  workflowId: string,
  input: GradeSubmissionInput,
  expedite = false,
): Promise<WorkflowHandle<GradeSubmission>> {
  const args: [GradeSubmissionInput] = [input];
  const options = {
    workflowId,
    taskQueue,
    args,
    workflowIdReusePolicy: REJECT_DUPLICATE,
  };
  if (!expedite) return client.workflow.start<GradeSubmission>(GRADE_SUBMISSION_WORKFLOW, options);
  // Signal and start in one call, so the run never plans a wait it would at once be told to skip.
  return client.workflow.signalWithStart<GradeSubmission, []>(GRADE_SUBMISSION_WORKFLOW, {
    ...options,
    signal: EXPEDITE_SIGNAL,
    signalArgs: [],
  });
}

/** Prints each change of the workflow's state (stderr) until it ends, then returns its result. */
async function waitWithProgress(handle: WorkflowHandle<GradeSubmission>): Promise<GradeSubmissionResult> {
  let done = false;
  const result = handle.result().finally(() => (done = true));
  let last = '';
  while (!done) {
    const status = await Promise.race([
      handle.query<GradingStatus>(STATUS_QUERY).catch(() => null),
      sleep(2 * PROGRESS_INTERVAL_MS, null),
    ]);
    const line = status === null ? '' : describeProgress(status);
    if (line !== '' && line !== last) writeProgress(`${new Date().toISOString().slice(11, 19)}  ${line}`);
    last = line || last;
    await Promise.race([result.catch(() => undefined), sleep(PROGRESS_INTERVAL_MS)]);
  }
  try {
    return await result;
  } catch (error) {
    // Already loaded by withTemporal: this only names the class.
    const { WorkflowFailedError } = await import('@temporalio/client');
    if (error instanceof WorkflowFailedError) {
      throw new CliError(`workflow ${handle.workflowId} failed: ${error.cause?.message ?? error.message}`, 1, {
        cause: error,
      });
    }
    throw error;
  }
}

function describeProgress(status: GradingStatus): string {
  switch (status.state) {
    case 'waiting':
      return `waiting for a greener hour: ${status.policy ?? 'policy ?'} plans to start at ${formatTime(status.plannedStartAt)} on ${status.nodeName ?? '?'}`;
    case 'running':
      return `running on ${status.nodeName ?? '?'} (attempt ${status.attempts})`;
    case 'placing':
      return `placing on ${status.nodeName ?? '?'}`;
    default:
      return status.lastError === null ? status.state : `${status.state} (last error: ${status.lastError})`;
  }
}

function describeResult(result: GradeSubmissionResult): string {
  if (result.state === 'completed') {
    return `completed: ${result.outcome ?? 'no outcome'}, score ${formatScore(result.score)} on ${result.nodeName ?? '?'}`;
  }
  return `${result.state}: ${result.reason ?? 'no reason given'}`;
}
