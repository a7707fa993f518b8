import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { assignmentImageTag, ensureAssignmentImage } from '../../src/executors/docker/assignment-image.js';
import type { AutograderJob, FileTree } from '../../src/executors/executor.js';
import { KubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js';
import type { KubernetesExecutorOptions } from '../../src/executors/kubernetes/options.js';
import { requireEnv } from '../support/env.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

const docker = new Docker();
const MiB = 1024 * 1024;
// run_autograder runs the submission's grade.sh: each case's behaviour is student code.
const runAutograder = '#!/bin/bash\n# grader-sandbox\ncd /autograder\nexec bash /autograder/submission/grade.sh\n';
// setup.sh opens a folder of the image to the grader (which runs as nobody), as a course that installs packages at
// run time would open /usr/local: only without a read-only root can the grader then write it.
const setupSh = '#!/bin/sh\nmkdir -m 1777 /opt/course-cache\n';
const sourceFiles: FileTree = new Map([
  ['run_autograder', { bytes: Buffer.from(runAutograder), mode: 0o755 }],
  ['setup.sh', { bytes: Buffer.from(setupSh), mode: 0o755 }],
]);
const sourceHash = createHash('sha256').update(runAutograder).update(setupSh).digest('hex');
const assignmentId = 4344;

function job(gradeSh: string): AutograderJob {
  return {
    runId: randomUUID(),
    assignmentId,
    sourceHash,
    sourceFiles,
    submissionFiles: new Map([['grade.sh', { bytes: Buffer.from(gradeSh) }]]),
    metadataJson: '{}',
    limits: {
      timeoutSec: 20,
      memoryBytes: 128 * MiB,
      nanoCpus: 1_000_000_000,
      pidsLimit: 64,
      outputMaxBytes: 8192,
      resultsMaxBytes: 4096,
    },
  };
}

const control = { abortSignal: new AbortController().signal, heartbeat: () => undefined };

describe('the grader pod sandbox on a real control plane', () => {
  let cluster: TestCluster;
  const executor = (options: Partial<KubernetesExecutorOptions> = {}): KubernetesExecutor =>
    new KubernetesExecutor({
      kubeConfig: cluster.executorConfig,
      namespace: cluster.namespace,
      imageFor: assignmentImageTag,
      region: 'us-west',
      unschedulableTimeoutSec: 20,
      ...options,
    });

  before(
    async () => {
      const node = { name: 'usw-1', labels: { 'topology.kubernetes.io/region': 'us-west' } };
      [cluster] = await Promise.all([
        startTestCluster(docker, [node]),
        ensureAssignmentImage(
          docker,
          { assignmentId, sourceHash, sourceFiles, baseImage: requireEnv('GG_TEST_BASE_IMAGE'), networkMode: 'none' },
          120,
        ),
      ]);
    },
    { timeout: 15 * 60_000 }, // a cold build of the Kubernetes binaries takes about 10 minutes
  );
  after(async () => {
    await cluster?.stop();
  });

  it('writes only to the size-limited scratch folders; the image is read-only', { timeout: 120_000 }, async () => {
    const result = await executor({ diskLimitBytes: 8 * MiB }).run(
      job(`touch /opt/course-cache/x 2>/dev/null && echo "image=writable" || echo "image=read-only"
echo hi > "$HOME/.rc" && echo "home=writable"
head -c ${16 * MiB} /dev/zero > /tmp/big 2>/dev/null || echo "tmp=full at $(($(stat -c %s /tmp/big) / ${MiB})) MiB"
test -x /autograder/run_autograder && echo "source=present"
echo "core=$(ulimit -c unlimited 2>/dev/null; ulimit -c)"
echo '{"score": 1}' > /autograder/results/results.json`),
      control,
    );
    assert.equal(result.outcome, 'completed', result.output);
    assert.match(result.output, /image=read-only/);
    assert.match(result.output, /home=writable/);
    assert.match(result.output, /tmp=full at [78] MiB/);
    assert.match(result.output, /source=present/);
    assert.match(result.output, /^core=0$/m, 'no core dumps to the node');
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 1 });
  });

  it(
    'leaves the root writable where the grader needs it (readOnlyRootFilesystem false)',
    { timeout: 120_000 },
    async () => {
      const result = await executor({ readOnlyRootFilesystem: false }).run(
        job('touch /opt/course-cache/installed && echo "image=writable"'),
        control,
      );
      assert.equal(result.exitCode, 0, result.output);
      assert.match(result.output, /image=writable/);
    },
  );

  it('ignores a forged trailer and a forged CPU-times file', { timeout: 120_000 }, async () => {
    // Student code tries every route to the log the executor reads: a fake trailer on its own stdout, the same
    // straight onto PID 1's stdout followed by a flood that would push the real trailer past the read limit,
    // and the wrapper's CPU-times file.
    const fake = [
      '==== greengrader trailer v1 ====',
      '==== greengrader trailer v2 00000000000000000000000000000000 ====',
      'stage=done',
      'exit=0',
      'cpu=0m0.000s 0m0.001s',
      'results=present',
      Buffer.from('{"score": 100}').toString('base64'),
      '==== greengrader trailer end 00000000000000000000000000000000 ====',
    ].join('\n');
    const result = await executor().run(
      job(`fake='${fake}'
printf '\n%s\n' "$fake"
{ printf '\n%s\n' "$fake"; head -c ${1 * MiB} /dev/zero; } > /proc/1/fd/1 2>/dev/null && echo "pid1=written" || echo "pid1=denied"
echo "0m0.000s 0m0.001s" > /tmp/.greengrader/times 2>/dev/null && echo "times=written" || echo "times=denied"
cat /greengrader/input/nonce 2>/dev/null && echo "nonce=read" || echo "nonce=denied"
python3 -c "
import time
t = time.process_time()
while time.process_time() - t < 0.3: pass"
echo '{"score": 1}' > /autograder/results/results.json`),
      control,
    );
    assert.match(result.output, /pid1=denied/);
    assert.match(result.output, /times=denied/);
    assert.match(result.output, /nonce=denied/);
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 1 });
    assert.equal(result.exitCode, 0);
    assert.ok((result.cpuTimeMs ?? 0) >= 250, `CPU time ${result.cpuTimeMs} ms`);
  });
  it('refuses a results.json that is a FIFO at once, well before the run timeout', { timeout: 120_000 }, async () => {
    // Without the check the wrapper's `head` waits for a writer that never comes, until the pod's deadline.
    const fifo = job('mkfifo /autograder/results/results.json && echo "fifo=made"');
    const started = Date.now();
    const result = await executor().run(fifo, control);
    const elapsedMs = Date.now() - started;
    assert.match(result.output, /fifo=made/);
    assert.equal(result.outcome, 'completed', result.output);
    assert.equal(result.resultsJson, null);
    assert.equal(
      result.resultsRefusal,
      'results.json is not a regular file (a FIFO, device or symlink): refused unread',
    );
    assert.ok(elapsedMs < fifo.limits.timeoutSec * 1000, `refused after ${elapsedMs} ms`);
  });

  it('refuses a results.json that is a symlink out of the results folder', { timeout: 120_000 }, async () => {
    // The wrapper reads as root: followed, the link would copy the root-only trailer nonce into the results.
    const result = await executor().run(
      job('ln -s /greengrader/input/nonce /autograder/results/results.json'),
      control,
    );
    assert.equal(result.outcome, 'completed', result.output);
    assert.equal(result.resultsJson, null);
    assert.equal(
      result.resultsRefusal,
      'results.json is not a regular file (a FIFO, device or symlink): refused unread',
    );
  });

  it('refuses a sparse results.json over its cap by its size, unread', { timeout: 120_000 }, async () => {
    const result = await executor().run(job('truncate -s 1M /autograder/results/results.json'), control);
    assert.equal(result.outcome, 'completed', result.output);
    assert.equal(result.resultsJson, null);
    assert.equal(result.resultsTruncated, true);
    assert.equal(result.resultsRefusal, 'results.json is larger than 4096 bytes (1048576 bytes): refused unread');
  });
});
