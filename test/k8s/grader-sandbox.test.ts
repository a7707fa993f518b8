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
const sourceFiles: FileTree = new Map([['run_autograder', { bytes: Buffer.from(runAutograder), mode: 0o755 }]]);
const sourceHash = createHash('sha256').update(runAutograder).digest('hex');
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
      job(`touch /usr/forged 2>/dev/null && echo "usr=writable" || echo "usr=read-only"
echo hi > "$HOME/.rc" && echo "home=writable"
head -c ${16 * MiB} /dev/zero > /tmp/big 2>/dev/null || echo "tmp=full at $(($(stat -c %s /tmp/big) / ${MiB})) MiB"
test -x /autograder/run_autograder && echo "source=present"
echo '{"score": 1}' > /autograder/results/results.json`),
      control,
    );
    assert.equal(result.outcome, 'completed', result.output);
    assert.match(result.output, /usr=read-only/);
    assert.match(result.output, /home=writable/);
    assert.match(result.output, /tmp=full at [78] MiB/);
    assert.match(result.output, /source=present/);
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 1 });
  });

  it(
    'leaves the root writable where the grader needs it (readOnlyRootFilesystem false)',
    { timeout: 120_000 },
    async () => {
      const result = await executor({ readOnlyRootFilesystem: false }).run(
        job('touch /usr/local/installed && echo "usr=writable"'),
        control,
      );
      assert.equal(result.exitCode, 0, result.output);
      assert.match(result.output, /usr=writable/);
    },
  );
});
