import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Docker from 'dockerode';
import { NODE_LABEL } from '../../src/executors/docker/grader-container.js';
import type { AutograderExecutor } from '../../src/executors/executor.js';
import { ingestWorkflowId, type GradeSubmissionResult } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';

/** An executor whose engine is never reachable: the infrastructure fault retries exist for. */
const brokenEngine: AutograderExecutor = {
  kind: 'docker',
  run: () => Promise.reject(new Error('connect ECONNREFUSED /var/run/docker.sock')),
};

const slowGrader = `#!/bin/bash
sleep 6
echo '{"score": 7}' > /autograder/results/results.json
`;

describe('infrastructure faults', () => {
  const stacks: GradingStack[] = [];
  after(async () => {
    for (const stack of stacks) await stack.stop();
  });

  it('moves a run to another node when its node dies mid-run, and leaves no container behind', async () => {
    const stack = await startGradingStack({ nodes: 1, env: { NODE_PICKUP_TIMEOUT_SEC: '3' } });
    stacks.push(stack);
    const [first] = stack.nodes;
    assert.ok(first);
    const file = await writeZipFile(
      await buildGradescopeZip({ sourceFiles: { run_autograder: slowGrader }, hostname: 'dies\n' }),
    );
    await mosquittoPub(brokerOf(stack.config), file.path);
    const workflowId = ingestWorkflowId(file.sha256);
    await stack.waitForRun(workflowId, (run) => run.state === 'running');

    void first.stop(); // the node goes away mid-run; its queue is left with no poller
    const second = await stack.startNode();
    const run = await stack.waitForRun(workflowId, undefined, 90_000);
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.outcome, 'graded');
    assert.equal(run.score, 7);
    assert.equal(run.nodeName, second.nodeName);
    assert.ok(run.attempts >= 2);
    const left = await new Docker().listContainers({
      all: true,
      filters: { label: [`${NODE_LABEL}=${first.nodeName}`] },
    });
    assert.equal(left.length, 0);
  });

  it('retries a failing engine a bounded number of times, then marks the run failed with its cause', async () => {
    const stack = await startGradingStack({ nodes: 0, env: { INFRA_MAX_ATTEMPTS: '2' } });
    stacks.push(stack);
    await stack.startNode({}, brokenEngine);
    const file = await writeZipFile(await buildGradescopeZip({ hostname: 'broken-engine\n' }));
    await mosquittoPub(brokerOf(stack.config), file.path);
    const workflowId = ingestWorkflowId(file.sha256);
    const run = await stack.waitForRun(workflowId, undefined, 60_000);
    assert.equal(run.state, 'failed');
    assert.equal(run.outcome, 'infrastructure-failure');
    assert.match(run.failureReason ?? '', /ECONNREFUSED/);
    assert.equal(run.attempts, 2, 'INFRA_MAX_ATTEMPTS attempts on the one node, then no other node to try');
    const result = (await stack.temporal.workflow.getHandle(workflowId).result()) as GradeSubmissionResult;
    assert.equal(result.state, 'failed');
  });
});
