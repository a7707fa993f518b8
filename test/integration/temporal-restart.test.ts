import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startTemporal, type RunningTemporal } from '../../src/services/index.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { requireEnv } from '../support/env.js';
import { startGradingStack, type GradingStack, type RunRow } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';

/** Long enough that the server can be stopped and started again while the container still runs. */
const slowGrader = `#!/bin/bash
sleep 6
echo '{"score": 7}' > /autograder/results/results.json
`;

// Workers and clients are never told about the restart: they must reconnect by themselves.
describe('a Temporal server restart', () => {
  let dir: string | undefined;
  let dbFile: string;
  let port: number;
  let cliPath: string;
  let server: RunningTemporal | undefined;
  let stack: GradingStack | undefined;

  before(async () => {
    // Its own server, on a fixed port and SQLite file, so stopping it disturbs no other test.
    dir = await mkdtemp(path.join(tmpdir(), 'gg-temporal-restart-'));
    dbFile = path.join(dir, 'temporal.db');
    cliPath = requireEnv('TEMPORAL_CLI');
    port = await freePort();
    server = await startTemporal({ dbFile, port, cliPath });
    stack = await startGradingStack({ env: { TEMPORAL_ADDRESS: server.address } });
  });
  after(async () => {
    await stack?.stop();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Publishes a slow submission and waits until its container is about to start. */
  async function publishSlowSubmission(grading: GradingStack, hostname: string): Promise<string> {
    const file = await writeZipFile(
      await buildGradescopeZip({ sourceFiles: { run_autograder: slowGrader }, hostname: `${hostname}\n` }),
    );
    await mosquittoPub(brokerOf(grading.config), file.path);
    const workflowId = ingestWorkflowId(file.sha256);
    await grading.waitForRun(workflowId, (run) => run.state === 'running', 30_000);
    return workflowId;
  }

  async function assertGraded(grading: GradingStack, workflowId: string, run: RunRow): Promise<void> {
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.outcome, 'graded');
    assert.equal(run.score, 7);
    // The run row is written by the last activity; the workflow completes just after it.
    const handle = grading.temporal.workflow.getHandle(workflowId);
    await handle.result();
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  }

  it('lets a run that is grading during the restart finish, without grading it again', async (t) => {
    assert.ok(stack);
    const workflowId = await publishSlowSubmission(stack, 'restart-mid-run');
    const stoppedAt = Date.now();
    await server?.stop();
    server = await startTemporal({ dbFile, port, cliPath }); // same port, same SQLite file
    t.diagnostic(`Temporal was down for ${Date.now() - stoppedAt} ms`);

    const run = await stack.waitForRun(workflowId, undefined, 45_000);
    t.diagnostic(`run recorded ${Date.now() - stoppedAt} ms after the stop`);
    await assertGraded(stack, workflowId, run);
    assert.equal(run.attempts, 1, 'the server was back before the container finished');
  });

  it('records a result the node finished while the server was down', async (t) => {
    assert.ok(stack);
    const workflowId = await publishSlowSubmission(stack, 'restart-after-run');
    const stoppedAt = Date.now();
    await server?.stop();
    // `recording`: the container is done and the activity is about to report its result to a dead server.
    await stack.waitForRun(workflowId, (run) => run.state === 'recording', 30_000);
    server = await startTemporal({ dbFile, port, cliPath });
    t.diagnostic(`Temporal was down for ${Date.now() - stoppedAt} ms, the grader finished during that`);

    const run = await stack.waitForRun(workflowId, undefined, 45_000);
    t.diagnostic(`run recorded ${Date.now() - stoppedAt} ms after the stop, after ${run.attempts} attempt(s)`);
    await assertGraded(stack, workflowId, run);
  });
});
