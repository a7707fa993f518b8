import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ExecutionControl, GraderLimits } from '../../src/executors/executor.js';
import type { DockerExecutor } from '../../src/executors/docker/docker-executor.js';
import { NODE_LABEL } from '../../src/executors/docker/grader-container.js';
import { hostCgroupCpuMs } from '../../src/executors/docker/host-cgroup.js';
import { defaultBaseImage } from '../../src/services/base-image.js';
import { countingDocker, totalCalls } from '../support/engine-call-counter.js';
import { waitFor } from '../support/wait-for.js';
import { graderJob } from '../support/grader-job.js';
import { testDockerExecutor, testGraderLimits } from '../support/test-docker-executor.js';

// Each engine call costs dockerd CPU, and an exec a runc launch in the container: on a busy node that is the
// stack's overhead per graded run (issue 9's bench:batch). These tests hold a run to a fixed budget of them.
const { docker, calls, reset } = countingDocker();
const nodeName = `calls-test-${randomUUID().slice(0, 8)}`;
const limits: GraderLimits = testGraderLimits({ timeoutSec: 30 });
const control: ExecutionControl = { heartbeat: () => undefined, abortSignal: new AbortController().signal };

/** A few seconds, then a result: long enough that polling the engine while it runs would show (a dozen calls). */
const BUSY_GRADER = `sleep 3; echo '{"score": 7}' > /autograder/results/results.json`;

const count = (kind: string): number => calls.get(kind) ?? 0;

describe('engine calls of one graded run on a Docker node', () => {
  let executor: DockerExecutor;
  before(async () => {
    executor = testDockerExecutor(docker, nodeName);
    await executor.run(graderJob(BUSY_GRADER, limits), control); // builds the image: not what is counted
  });
  after(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
    assert.equal(left.length, 0, 'no grading container outlives its run');
  });

  it('makes no exec and no engine call while the grader runs, and asks nothing about a known image', async () => {
    reset();
    const result = await executor.run(graderJob(BUSY_GRADER, limits), control);
    assert.equal(result.outcome, 'completed', result.output);
    assert.equal(result.resultsJson?.trim(), '{"score": 7}');
    assert.ok(result.cpuTimeMs !== null, 'CPU time is measured');
    const seen = JSON.stringify(Object.fromEntries(calls));
    assert.equal(count('POST /containers/{id}/exec'), 0, `the grader is the container's own command: ${seen}`);
    // The CPU time comes from the host's cgroup file: the engine's stats endpoint waits for its next 1-s tick.
    assert.equal(count('GET /containers/{id}/stats'), 0, `the CPU time is read from the host's cgroup: ${seen}`);
    assert.equal(count('GET /containers/{id}/json'), 0, `the OOM kills are read from the host's cgroup: ${seen}`);
    assert.equal(count('GET /images/{id}/json'), 0, `the image is known to the node: ${seen}`);
    // create, attach, start, wait, remove
    assert.ok(totalCalls(calls) <= 5, `at most 5 engine calls per run: ${seen}`);
  });

  it("reads the same CPU time from the host's cgroup file as the engine reports", async () => {
    const container = await docker.createContainer({
      Image: defaultBaseImage,
      // About a second of CPU, then idle, so both readings see the same settled counter.
      Cmd: ['sh', '-c', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; echo burnt; sleep 60'],
      NetworkDisabled: true,
      Labels: { [NODE_LABEL]: nodeName },
    });
    try {
      await container.start();
      await waitFor(async () => (await container.logs({ stdout: true })).toString().includes('burnt'), {
        timeoutMs: 60_000,
        description: 'the container burnt its CPU',
      });
      const fromHost = hostCgroupCpuMs(container.id);
      const stats = await container.stats({ stream: false, 'one-shot': true } as { stream: false });
      const fromEngine = (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e6;
      assert.ok(fromHost !== null, 'this host exposes the container cgroup');
      assert.ok(fromEngine > 200, `the engine reports ${fromEngine} ms`);
      // Same counter, read a moment apart while the container sleeps: the units and the path must agree.
      assert.ok(Math.abs(fromHost - fromEngine) < 0.05 * fromEngine, `host ${fromHost} ms, engine ${fromEngine} ms`);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('ends a run whose grader left a child holding stdout open, within seconds', async () => {
    const started = Date.now();
    const result = await executor.run(
      graderJob(`sleep 25 & echo '{"score": 3}' > /autograder/results/results.json; echo left; exit 4`, limits),
      control,
    );
    const elapsedMs = Date.now() - started;
    assert.equal(result.exitCode, 4);
    assert.match(result.output, /left/);
    assert.equal(result.resultsJson?.trim(), '{"score": 3}');
    assert.ok(elapsedMs < 15_000, `the run took ${elapsedMs} ms; its child sleeps 25 s`);
  });

  it('reads the exit code of a grader that closed its output and went on running', async () => {
    const result = await executor.run(graderJob('echo closing; exec >&- 2>&-; sleep 3; exit 5', limits), control);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.exitCode, 5);
    assert.match(result.output, /closing/);
  });

  it('builds the image again when the engine lost it behind the node, and grades the run', async () => {
    const job = graderJob(`echo '{"score": 9}' > /autograder/results/results.json`, limits);
    const first = await executor.run(job, control);
    await docker.getImage(first.imageTag).remove({ force: true });
    const second = await executor.run({ ...job, runId: randomUUID() }, control);
    assert.equal(second.outcome, 'completed', second.output);
    assert.equal(second.resultsJson?.trim(), '{"score": 9}');
    assert.ok(second.imageBuildMs > 0, 'the image was built again');
  });
});
