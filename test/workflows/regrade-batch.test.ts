// RegradeBatch in virtual time: its paging, its bound on children at once, continue-as-new and cancellation, with
// a stand-in GradeSubmission (support/regrade-workflows.ts) on the time-skipping test server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { RegradeBatchInput, RegradeBatchResult } from '../../src/shared/regrade-types.js';
import type { RegradeMemo, RegradeProgress } from '../../src/workflows/regrade-batch.js';
import { waitFor } from '../support/wait-for.js';
import { createRegradeFakes } from './support/regrade-fakes.js';
import { addSearchAttributes, bundleWorkflows } from './support/run-scenario.js';

const ENTRY = fileURLToPath(new URL('./support/regrade-workflows.ts', import.meta.url));

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;

before(async () => {
  const path = process.env.GG_TEMPORAL_TEST_SERVER;
  if (!path) {
    throw new Error(
      'GG_TEMPORAL_TEST_SERVER is unset: run scripts/bootstrap.sh, then tests via scripts/with-services.ts',
    );
  }
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const start = () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // A second try, once: under a parallel suite the JVM can miss the 5 s the SDK waits for it to listen.
  env = await start().catch(start);
  bundle = await bundleWorkflows(ENTRY);
  await addSearchAttributes(env.nativeConnection);
});

after(async () => {
  await env?.teardown();
});

/** Runs `body` with a worker serving RegradeBatch, the stand-in child and fakes over `payloads`. */
async function withBatch<T>(
  payloads: string[],
  options: Partial<RegradeBatchInput>,
  body: (handle: WorkflowHandle, fakes: ReturnType<typeof createRegradeFakes>, batchId: string) => Promise<T>,
): Promise<T> {
  const fakes = createRegradeFakes(payloads);
  const taskQueue = `gg-regrade-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: fakes.activities,
  });
  const batchId = `b-${taskQueue}`;
  const start = () =>
    env.client.workflow.start('RegradeBatch', {
      taskQueue,
      workflowId: `regrade-assignment-${taskQueue}`,
      args: [
        {
          batchId,
          scope: 'assignment',
          scopeId: 42,
          pageSize: 2,
          maxInFlight: 3,
          childrenPerRun: 4,
          ...options,
        } satisfies RegradeBatchInput,
      ],
    });
  return worker.runUntil(async () => body(await start(), fakes, batchId));
}

const names = (count: number, prefix = 'ok') => Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);

/** The most children open at once, from their start and finish times (virtual). */
function mostAtOnce(starts: { atMs: number }[], finishes: { atMs: number }[]): number {
  const events = [...starts.map((s) => [s.atMs, 1] as const), ...finishes.map((f) => [f.atMs, -1] as const)];
  // Finishes before starts at the same instant: a slot freed is taken by the next child at that moment.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) {
    open += delta;
    most = Math.max(most, open);
  }
  return most;
}

describe('RegradeBatch in virtual time', () => {
  it('starts every submission once, pages, bounds children at once and continues as new', async () => {
    const payloads = [...names(8), 'bad-1', 'crash-1'];
    await withBatch(payloads, {}, async (handle, fakes, batchId) => {
      const result = (await handle.result()) as RegradeBatchResult;
      assert.deepEqual(result.tally, { started: 10, graded: 8, failed: 2, cancelled: 0 });
      assert.equal(result.total, 10);

      const started = fakes.inputsOf<{ payloadSha256: string; trigger: string; atMs: number }>('childStarted');
      assert.deepEqual(started.map((s) => s.payloadSha256).sort(), [...payloads].sort(), 'each exactly once');
      assert.ok(started.every((s) => s.trigger === 'rerun'));
      const finished = fakes.inputsOf<{ atMs: number }>('childFinished');
      assert.equal(mostAtOnce(started, finished), 3, 'maxInFlight children at once, no more');

      assert.equal(fakes.inputsOf('openRegradeBatch').length, 1, 'listed once, by the first run');
      const listings = fakes.calls.filter((call) => call.name === 'listRegradeItems');
      assert.deepEqual(
        listings.map((call) => (call.input as { afterPosition: number }).afterPosition),
        [0, 2, 4, 6, 8],
      );
      assert.ok(listings.every((call) => (call.input as { limit: number }).limit <= 2));
      const runs = [...new Set(listings.map((call) => call.runId))];
      assert.equal(runs.length, 3, '4 + 4 + 2 children: two continue-as-new');
      assert.deepEqual(fakes.inputsOf('finishRegradeBatch'), [{ batchId, state: 'completed' }]);

      const description = await handle.describe();
      assert.equal(description.status.name, 'COMPLETED');
      const memo = description.memo as unknown as RegradeMemo;
      assert.equal(memo.summary, 'regrade of assignment 42 completed: 10/10 started, 8 graded, 2 failed, 0 cancelled');
      assert.deepEqual(memo.regrade, {
        batchId,
        state: 'completed',
        total: 10,
        started: 10,
        graded: 8,
        failed: 2,
        cancelled: 0,
      });
    });
  });

  it('cancelling it cancels the children not yet done and starts no more', async () => {
    const payloads = ['ok-1', 'slow-1', 'slow-2', 'ok-2', 'ok-3'];
    await withBatch(payloads, { maxInFlight: 3, childrenPerRun: 100 }, async (handle, fakes) => {
      // ok-1 completes (its 10 virtual minutes pass while the result is awaited); the slow ones keep running.
      await waitFor(() => Promise.resolve(fakes.inputsOf('childStarted').length >= 3 ? true : null), {
        description: 'three children started',
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      const progress = await handle.query<RegradeProgress>('regradeProgress');
      assert.equal(progress.inFlight, 3);
      await handle.cancel();
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof CancelledFailure);
        return true;
      });
      const cancelled = fakes.inputsOf<{ payloadSha256: string }>('childCancelled').map((c) => c.payloadSha256);
      const startedIds = fakes.inputsOf<{ payloadSha256: string }>('childStarted').map((c) => c.payloadSha256);
      assert.deepEqual(startedIds.sort(), ['ok-1', 'slow-1', 'slow-2']);
      // ok-1 may finish before the cancel reaches it (then it stays graded) or be cancelled with the others.
      assert.ok(cancelled.includes('slow-1') && cancelled.includes('slow-2'));
      assert.equal(fakes.inputsOf<{ state: string }>('finishRegradeBatch')[0]?.state, 'cancelled');
      const memo = (await handle.describe()).memo as unknown as RegradeMemo;
      assert.equal(memo.regrade.started, 3);
      assert.equal(memo.regrade.cancelled, 5 - memo.regrade.graded);
    });
  });
});
