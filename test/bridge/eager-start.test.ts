// With a worker of the same process polling the queue on the given NativeConnection, the bridge's starter hands
// each workflow's first task straight to it (eager start); a first task handed out but never run is not lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { CleanupStack } from '../../src/app/cleanup-stack.js';
import { rawPayloads } from '../../src/db/schema.js';
import { GRADE_SUBMISSION_WORKFLOW, ingestWorkflowId } from '../../src/shared/grading-types.js';
import { requireEnv } from '../support/env.js';
import { createMigratedDatabase } from '../support/migrated-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { waitFor } from '../support/wait-for.js';
import { eagerStarts, startEagerStarter } from './support/eager-starts.js';
import { startStandInWorker } from './support/stand-in-worker.js';

const { EventType } = proto.temporal.api.enums.v1;
/** The server's default for a start that names none, which the bridge's starts do not. */
const WORKFLOW_TASK_TIMEOUT_MS = 10_000;

const cleanup = new CleanupStack(() => undefined);
after(() => cleanup.runAll());

it('starts through the local worker connection hand each first workflow task to that worker', async () => {
  const address = requireEnv('TEMPORAL_ADDRESS');
  const taskQueue = `eager-start-${randomUUID().slice(0, 8)}`;
  const database = await createMigratedDatabase();
  cleanup.push('database', () => database.drop());
  const eagerBefore = await eagerStarts();
  const { starter, temporal } = await startEagerStarter(address, database.db, taskQueue, cleanup);

  // Fewer than the worker's six free slots: each start finds one.
  await commitPendingPayloads(database.db, 4);
  starter.poke();
  await waitFor(async () => (await startedPayloadCount(database.db)) === 4, { description: '4 rows started' });
  assert.equal((await eagerStarts()) - eagerBefore, 4, 'every start reported an eager first task');

  const rows = await database.db.select({ sha256: rawPayloads.sha256 }).from(rawPayloads);
  for (const { sha256 } of rows) {
    const handle = temporal.workflow.getHandle(ingestWorkflowId(sha256));
    assert.equal(await handle.result(), 'stand-in');
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    assert.equal(started?.eagerExecutionAccepted, true, 'the server handed out the first task with the start');
    // Written with the start itself, not by a later poll: the task IDs follow on.
    assert.equal(events[2]?.eventType, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    assert.equal(Number(events[2]?.taskId), Number(events[0]?.taskId) + 2);
  }
});

it('a first task handed out with the start but never run goes to a poll after the workflow task timeout', async () => {
  const address = requireEnv('TEMPORAL_ADDRESS');
  const taskQueue = `eager-lost-${randomUUID().slice(0, 8)}`;
  // A plain gRPC call asking for the task: it comes back in the answer, and nothing runs it (a worker that died).
  const connection = await Connection.connect({ address });
  cleanup.push('connection', () => connection.close());
  const workflowId = `eager-lost-${randomUUID()}`;
  const startedAt = Date.now();
  const response = await connection.workflowService.startWorkflowExecution({
    namespace: 'default',
    workflowId,
    workflowType: { name: GRADE_SUBMISSION_WORKFLOW },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
    requestEagerExecution: true,
  });
  assert.ok(response.eagerWorkflowTask, 'the server handed out the first task');

  await startStandInWorker(address, taskQueue, cleanup);
  const handle = new Client({ connection }).workflow.getHandle(workflowId);
  assert.equal(await withTimeout(handle.result(), 3 * WORKFLOW_TASK_TIMEOUT_MS), 'stand-in');
  const waitedMs = Date.now() - startedAt;
  assert.ok(waitedMs >= WORKFLOW_TASK_TIMEOUT_MS - 500, `completed ${waitedMs} ms after the start`);
  const types = ((await handle.fetchHistory()).events ?? []).map((event) => event.eventType);
  assert.ok(types.includes(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT), 'the lost task timed out');
  assert.ok(types.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED));
});

/** Rejects when `promise` has not settled in `ms`: a lost task must fail the test, not hang it. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
