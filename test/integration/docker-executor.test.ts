import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import type { AutograderJob, ExecutionControl, GraderLimits } from '../../src/executors/executor.js';
import type { DockerExecutor } from '../../src/executors/docker/docker-executor.js';
import { NODE_LABEL } from '../../src/executors/docker/grader-container.js';
import { removeLeftoverContainers } from '../../src/executors/docker/remove-leftover-containers.js';
import { requireEnv } from '../support/env.js';
import { graderJob, jobWithSetup } from '../support/grader-job.js';
import { testDockerExecutor, testGraderLimits } from '../support/test-docker-executor.js';

const docker = new Docker();
const nodeName = `exec-test-${randomUUID().slice(0, 8)}`;
const limits: GraderLimits = testGraderLimits();

const job = (script: string, overrides: Partial<AutograderJob> = {}): AutograderJob =>
  graderJob(script, limits, overrides);

const control: ExecutionControl = { heartbeat: () => undefined, abortSignal: new AbortController().signal };

describe('the Docker executor', () => {
  let executor: DockerExecutor;
  before(() => {
    executor = testDockerExecutor(docker, nodeName);
  });
  after(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
    assert.equal(left.length, 0, 'no grading container outlives its run');
  });

  it('runs run_autograder in /autograder with the submission and metadata in place', async () => {
    const result = await executor.run(
      job(`set -e
cd /autograder
echo "cwd=$(pwd)"
test -f /autograder/submission_metadata.json
answer=$(cat submission/answer.txt)
python3 -c "import json; json.dump({'score': $answer, 'tests': []}, open('/autograder/results/results.json', 'w'))"`),
      control,
    );
    assert.equal(result.outcome, 'completed');
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /cwd=\/autograder/);
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 42, tests: [] });
    assert.ok(result.startedAt && result.finishedAt && result.finishedAt >= result.startedAt);
    assert.ok(result.cpuTimeMs !== null && result.cpuTimeMs >= 0, 'CPU time is measured');
  });

  it('reuses the assignment image for the same source', async () => {
    const first = await executor.run(job('echo cached'), control);
    const second = await executor.run(job('echo cached'), control);
    assert.equal(first.imageTag, second.imageTag);
    assert.equal(second.imageBuildMs, 0);
  });

  it('measures the CPU time a busy grader used', async () => {
    const result = await executor.run(
      job('python3 -c "import time\nt=time.process_time()\nwhile time.process_time()-t < 0.5: pass"'),
      control,
    );
    assert.ok((result.cpuTimeMs ?? 0) >= 400, `cpu time ${result.cpuTimeMs} ms`);
  });

  it('reports a crash as a result with its exit code and no results', async () => {
    const result = await executor.run(job('echo boom >&2; exit 3'), control);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.exitCode, 3);
    assert.equal(result.resultsJson, null);
    assert.match(result.output, /boom/);
  });

  it('kills a grader that runs past its timeout', async () => {
    const started = Date.now();
    const result = await executor.run(job('sleep 600'), { ...control });
    assert.equal(result.outcome, 'timeout');
    assert.ok(Date.now() - started < 60_000);
  });

  it('caps a grader flooding stdout and still collects its results', async () => {
    const result = await executor.run(
      job(`head -c 50000000 /dev/zero | tr '\\0' x; echo '{"score": 1}' > /autograder/results/results.json`, {
        // Pushing 50 MB through the engine is slow on a loaded machine; this test is about the cap, not speed.
        limits: { ...limits, timeoutSec: 60 },
      }),
      control,
    );
    assert.equal(result.outcome, 'completed');
    assert.equal(result.outputTruncated, true);
    assert.equal(result.output.length, limits.outputMaxBytes);
    assert.equal(result.resultsJson?.trim(), '{"score": 1}');
  });

  it('stops a grader at its memory limit', async () => {
    const result = await executor.run(job(`python3 -c "x = bytearray(512 * 1024 * 1024); print(len(x))"`), control);
    assert.equal(result.outcome, 'out-of-memory');
  });

  it('reports out-of-memory when the OOM killer ended one of its processes, and keeps the results it wrote', async () => {
    const result = await executor.run(
      job(`python3 -c "x = bytearray(512 * 1024 * 1024)"; echo '{"score": 2}' > /autograder/results/results.json`),
      control,
    );
    assert.equal(result.outcome, 'out-of-memory');
    assert.equal(result.exitCode, 0, 'the grader itself went on and ended well');
    assert.equal(result.resultsJson?.trim(), '{"score": 2}');
  });

  it('gives the grader no network and no capabilities', async () => {
    const result = await executor.run(
      job(`ls /sys/class/net; grep CapEff /proc/self/status; python3 -c "
import socket
try:
    socket.create_connection(('1.1.1.1', 80), timeout=2); print('NET=yes')
except OSError as e:
    print('NET=no')"`),
      control,
    );
    assert.match(result.output, /NET=no/);
    assert.match(result.output, /CapEff:\s+0+\n/);
    assert.doesNotMatch(result.output, /eth0/);
  });

  it('reports a failing setup.sh as a build failure, not an infrastructure fault', async () => {
    const result = await executor.run(jobWithSetup('echo installing; exit 7\n', limits), control);
    assert.equal(result.outcome, 'build-failed');
    assert.match(result.output, /installing/);
  });

  it('kills and removes the container when the run is cancelled', async () => {
    const abort = new AbortController();
    const running = executor.run(job('sleep 600'), { heartbeat: () => undefined, abortSignal: abort.signal });
    setTimeout(() => abort.abort(new Error('cancelled by test')), 1500);
    await assert.rejects(running, /cancelled by test/);
  });

  it('sweeps containers a crashed node left behind', async () => {
    const image = requireEnv('GG_TEST_BASE_IMAGE');
    const orphan = await docker.createContainer({
      Image: image,
      Cmd: ['sleep', '600'],
      Labels: { [NODE_LABEL]: nodeName },
    });
    await orphan.start();
    const removed = await removeLeftoverContainers(docker, nodeName);
    assert.deepEqual(removed, [orphan.id]);
    await assert.rejects(orphan.inspect(), /no such container/i);
  });
});
