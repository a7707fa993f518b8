// `greengrader rerun --assignment ID` over the real services: one RegradeBatch grades each stored submission once,
// a second request attaches to it, progress counts follow the run rows, and cancelling stops what is not done.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { and, eq, like } from 'drizzle-orm';
import type { RerunBatchOutput } from '../../src/cli/commands/rerun-batch.js';
import { renderBatchesPage } from '../../src/dashboard/batches-page.js';
import { listRegradeBatches } from '../../src/db/regrade-progress.js';
import { gradingRuns, regradeBatches } from '../../src/db/schema.js';
import type { AutograderExecution, AutograderExecutor } from '../../src/executors/executor.js';
import { CANCELLED_REASON, ingestWorkflowId } from '../../src/shared/grading-types.js';
import { regradeWorkflowId } from '../../src/shared/regrade-types.js';
import { cliEnvOf, runCli, runCliJson } from '../cli/support/run-cli.js';
import { buildGradescopeZip, defaultMetadata } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

/** Submissions whose grader hangs (until its activity is cancelled); the others finish at once with score 10. */
const held = new Set<number>();

/** A grader without Docker: the batch's plumbing is under test here, not the container (docker-executor.test). */
const fakeExecutor: AutograderExecutor = {
  kind: 'docker',
  run: (job, control) => {
    const id = (JSON.parse(job.metadataJson) as { id: number }).id;
    if (!held.has(id)) return Promise.resolve(execution());
    return new Promise((_resolve, reject) => {
      const beat = setInterval(() => control.heartbeat('grading'), 500);
      control.abortSignal.addEventListener('abort', () => {
        clearInterval(beat);
        reject(new Error('cancelled'));
      });
    });
  },
};

function execution(): AutograderExecution {
  const now = new Date();
  return {
    outcome: 'completed',
    exitCode: 0,
    imageTag: 'fake:latest',
    imageBuildMs: 0,
    imageReadyAt: now,
    startedAt: now,
    finishedAt: now,
    cpuTimeMs: 10,
    output: '',
    outputTruncated: false,
    resultsJson: JSON.stringify({ score: 10, tests: [] }),
    resultsTruncated: false,
  };
}

// Workflow ids are global on the shared Temporal server: this file's assignment is its own.
const ASSIGNMENT = 900_000_000 + randomInt(99_999_999);
const OTHER_ASSIGNMENT = ASSIGNMENT + 1;
const SUBMISSIONS = [101, 102, 103, 104];

describe('bulk regrade of an assignment', () => {
  let stack: GradingStack;
  let env: Record<string, string>;
  /** Gradescope id → the payload a regrade must use (the latest stored copy). */
  const latest = new Map<number, string>();

  async function publish(id: number, assignmentId: number): Promise<string> {
    const metadata = defaultMetadata();
    metadata.id = id;
    metadata.assignment.id = assignmentId;
    const file = await writeZipFile(
      await buildGradescopeZip({ metadata, extra: { 'gradescope/test-nonce': randomUUID() } }),
    );
    await mosquittoPub(brokerOf(stack.config), file.path);
    const run = await stack.waitForRun(ingestWorkflowId(file.sha256));
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    return file.sha256;
  }

  /** Rerun rows of a batch, by Gradescope id. */
  async function batchRuns(batchId: string) {
    return stack.database.db
      .select({ workflowId: gradingRuns.workflowId, state: gradingRuns.state, reason: gradingRuns.failureReason })
      .from(gradingRuns)
      .where(and(eq(gradingRuns.trigger, 'rerun'), like(gradingRuns.workflowId, `%-regrade-${batchId}`)));
  }

  before(async () => {
    stack = await startGradingStack({ nodes: 0 });
    await stack.startNode({}, fakeExecutor);
    env = cliEnvOf(stack.config);
    for (const id of SUBMISSIONS) latest.set(id, await publish(id, ASSIGNMENT));
    // Gradescope sent 102 again: the regrade takes this later copy, as `rerun 102` would.
    latest.set(102, await publish(102, ASSIGNMENT));
    await publish(999, OTHER_ASSIGNMENT);
  });

  after(async () => {
    held.clear();
    await stack.temporal.workflow
      .getHandle(regradeWorkflowId('assignment', ASSIGNMENT))
      .terminate('test over')
      .catch(() => undefined);
    await stack?.stop();
  });

  it('grades every stored submission of the assignment once, and counts them', async () => {
    const output = await runCliJson<RerunBatchOutput>(['rerun', '--assignment', String(ASSIGNMENT), '--wait'], env);
    assert.equal(output.action, 'started');
    assert.equal(output.workflowId, `regrade-assignment-${ASSIGNMENT}`);
    assert.equal(output.workflowStatus, 'COMPLETED');
    assert.equal(output.state, 'completed');
    assert.deepEqual(output.counts, { total: 4, queued: 0, running: 0, graded: 4, failed: 0, cancelled: 0 });
    assert.ok(output.batchId);
    const runs = await batchRuns(output.batchId);
    assert.deepEqual(
      runs.map((run) => run.workflowId).sort(),
      SUBMISSIONS.map((id) => `grade-${latest.get(id)}-regrade-${output.batchId}`).sort(),
      'one child per submission, on its latest copy; the other assignment untouched',
    );
    assert.ok(runs.every((run) => run.state === 'completed'));

    const description = await stack.temporal.workflow.getHandle(output.workflowId).describe();
    assert.match(String(description.memo?.['summary']), /completed: 4\/4 started, 4 graded, 0 failed, 0 cancelled$/);

    // Asked again after it finished: the same batch is reported, nothing is graded again.
    const again = await runCliJson<RerunBatchOutput>(['rerun', '--assignment', String(ASSIGNMENT)], env);
    assert.equal(again.action, 'finished');
    assert.equal(again.batchId, output.batchId);
    assert.equal((await batchRuns(output.batchId)).length, 4);
    const human = await runCli(['rerun', '--assignment', String(ASSIGNMENT)], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /ended COMPLETED: batch .*; --again starts a new one/);
  });

  it('issued twice while it runs gives one batch; progress counts; cancel stops the children not yet done', async () => {
    held.add(102).add(103);
    const args = ['rerun', '--assignment', String(ASSIGNMENT)];
    const first = await runCliJson<RerunBatchOutput>([...args, '--again', '--max-in-flight', '2'], env);
    assert.equal(first.action, 'started');
    const second = await runCliJson<RerunBatchOutput>([...args, '--again'], env);
    assert.equal(second.action, 'attached');
    assert.equal(second.batchId, first.batchId);
    const batchId = first.batchId ?? '';
    const rows = await stack.database.db
      .select()
      .from(regradeBatches)
      .where(eq(regradeBatches.workflowId, first.workflowId));
    assert.equal(rows.length, 2, 'the finished batch and this one');

    // 101 graded, 102 and 103 hang on the node, 104 waits for a place (two at once).
    const progress = await waitFor(
      async () => {
        const view = await runCliJson<RerunBatchOutput>(args, env);
        return view.counts?.graded === 1 && view.counts.running === 2 ? view : null;
      },
      { description: 'one graded, two running', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(progress.action, 'attached');
    assert.deepEqual(progress.counts, { total: 4, queued: 1, running: 2, graded: 1, failed: 0, cancelled: 0 });

    const cancelled = await runCliJson<RerunBatchOutput>([...args, '--cancel', '--wait'], env);
    assert.equal(cancelled.action, 'cancel-requested');
    assert.equal(cancelled.workflowStatus, 'CANCELLED');
    assert.equal(cancelled.state, 'cancelled');
    assert.deepEqual(cancelled.counts, { total: 4, queued: 0, running: 0, graded: 1, failed: 0, cancelled: 3 });
    const runs = new Map((await batchRuns(batchId)).map((run) => [run.workflowId, run]));
    const runOf = (id: number) => runs.get(`grade-${latest.get(id)}-regrade-${batchId}`);
    assert.equal(runOf(101)?.state, 'completed', 'graded before the cancel: stays graded');
    assert.equal(runOf(102)?.reason, CANCELLED_REASON);
    assert.equal(runOf(103)?.reason, CANCELLED_REASON);
    assert.equal(runOf(104), undefined, 'never started');

    const again = await runCliJson<RerunBatchOutput>([...args, '--cancel'], env);
    assert.equal(again.action, 'not-running');

    // The dashboard's list: both batches, newest first, with the same counts.
    const listed = await listRegradeBatches(stack.database.db, 10);
    assert.deepEqual(
      listed.map((batch) => [batch.state, batch.counts.graded, batch.counts.cancelled]),
      [
        ['cancelled', 1, 3],
        ['completed', 4, 0],
      ],
    );
    const page = renderBatchesPage(listed).value;
    assert.ok(page.includes(`data-batch-id="${batchId}"`));
    assert.match(page, /<td class="num cancelled">3<\/td>/);
  });

  it('refuses an assignment with nothing stored and flags that do not go together', async () => {
    const none = await runCli(['rerun', '--assignment', String(OTHER_ASSIGNMENT + 1)], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no stored submissions of assignment \d+/);
    const both = await runCli(['rerun', '101', '--assignment', String(ASSIGNMENT)], env);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give one of SUBMISSION_ID, --assignment ID or --course ID/);
    const cancelAlone = await runCli(['rerun', '101', '--cancel'], env);
    assert.equal(cancelAlone.code, 2);
    const unknown = await runCli(['rerun', '--course', String(OTHER_ASSIGNMENT + 7), '--cancel'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no regrade batch of course \d+/);
  });
});
