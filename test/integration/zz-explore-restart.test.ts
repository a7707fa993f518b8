import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startTemporal, type RunningTemporal } from '../../src/services/index.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../../src/submission/test-zip.js';
import { requireEnv } from '../support/env.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';

/** Long enough that the server is stopped and back while the container still runs. */
const slowGrader = `#!/bin/bash
sleep 6
echo '{"score": 7}' > /autograder/results/results.json
`;

describe('a Temporal server restart', () => {
  it('lets a run that was grading finish once the server is back, with no help from the workers', async (t) => {
    // Its own server, on a fixed port and SQLite file, so stopping it disturbs no other test.
    const dir = await mkdtemp(path.join(tmpdir(), 'gg-temporal-restart-'));
    const dbFile = path.join(dir, 'temporal.db');
    const cliPath = requireEnv('TEMPORAL_CLI');
    const port = await freePort();
    let server: RunningTemporal = await startTemporal({ dbFile, port, cliPath });
    let stack: GradingStack | undefined;
    try {
      stack = await startGradingStack({ env: { TEMPORAL_ADDRESS: server.address } });
      const file = await writeZipFile(
        await buildGradescopeZip({ sourceFiles: { run_autograder: slowGrader }, hostname: 'temporal-restart\n' }),
      );
      await mosquittoPub(brokerOf(stack.config), file.path);
      const workflowId = ingestWorkflowId(file.sha256);
      await stack.waitForRun(workflowId, (run) => run.state === 'running', 30_000);

      const stoppedAt = Date.now();
      await server.stop();
      // EXPLORE: keep it down until the container is done and the activity tries to report
      await stack.waitForRun(workflowId, (run) => run.state === 'recording', 30_000);
      t.diagnostic(`container finished while Temporal was down (${Date.now() - stoppedAt} ms after stop)`);
      await new Promise((r) => setTimeout(r, Number(process.env.EXTRA_DOWN_MS ?? 0)));
      server = await startTemporal({ dbFile, port, cliPath });
      t.diagnostic(`Temporal was down for ${Date.now() - stoppedAt} ms`);

      const backAt = Date.now();
      const run = await stack.waitForRun(workflowId, undefined, 120_000);
      t.diagnostic(`run recorded ${Date.now() - backAt} ms after the restart, after ${run.attempts} attempt(s)`);
      assert.equal(run.state, 'completed', run.failureReason ?? '');
      assert.equal(run.outcome, 'graded');
      assert.equal(run.score, 7);
      // The run row is written by the last activity; the workflow completes just after it.
      const handle = stack.temporal.workflow.getHandle(workflowId);
      await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
    } finally {
      await stack?.stop();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
