import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { assignmentImageTag, ensureAssignmentImage } from '../../src/executors/docker/assignment-image.js';
import type { AutograderJob, ExecutionControl, FileTree, GraderLimits } from '../../src/executors/executor.js';
import { ImagePullError, PodFailedError, PodUnschedulableError } from '../../src/executors/kubernetes/errors.js';
import { buildGraderPod } from '../../src/executors/kubernetes/grader-pod.js';
import { KubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js';
import { resolveOptions, type KubernetesExecutorOptions } from '../../src/executors/kubernetes/options.js';
import { createOrAdoptPod } from '../../src/executors/kubernetes/pod-lifecycle.js';
import { runNames } from '../../src/executors/kubernetes/run-names.js';
import { packSubmission } from '../../src/executors/kubernetes/submission-payload.js';
import { requireEnv } from '../support/env.js';
import { waitFor } from '../support/wait-for.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { serializeTree, type WorkerInput } from './support/worker-process.js';

const docker = new Docker();
// One trailer key for every executor here, as K8S_TRAILER_KEY gives a region worker across restarts.
const trailerKey = randomBytes(32);
const region = 'topology.kubernetes.io/region';
const zone = 'topology.kubernetes.io/zone';
const nodes = [
  { name: 'usw-a-1', labels: { [region]: 'us-west', [zone]: 'us-west-a' } },
  { name: 'usw-a-2', labels: { [region]: 'us-west', [zone]: 'us-west-a' } },
  { name: 'usw-b-1', labels: { [region]: 'us-west', [zone]: 'us-west-b' } },
  { name: 'eun-a-1', labels: { [region]: 'eu-north', [zone]: 'eu-north-a' } },
  { name: 'eun-b-1', labels: { [region]: 'eu-north', [zone]: 'eu-north-b' } },
  { name: 'stalled-1', labels: { [region]: 'sa-east', [zone]: 'sa-east-a' }, stalled: true },
];
const usWestNodes = new Set(['usw-a-1', 'usw-a-2', 'usw-b-1']);
const limits: GraderLimits = {
  timeoutSec: 10,
  memoryBytes: 64 * 1024 * 1024,
  nanoCpus: 1_000_000_000,
  pidsLimit: 64,
  outputMaxBytes: 4096,
  resultsMaxBytes: 4096,
};

// One assignment image for every case: its run_autograder runs the submission's grade.sh, so each case's
// behaviour (pass, crash, loop, eat memory) is student code, as it would be in a real course.
const runAutograder = '#!/bin/bash\ncd /autograder\nexec bash /autograder/submission/grade.sh\n';
const sourceFiles: FileTree = new Map([['run_autograder', { bytes: Buffer.from(runAutograder), mode: 0o755 }]]);
const sourceHash = createHash('sha256').update(runAutograder).digest('hex');
const assignmentId = 4343;

function job(gradeSh: string, overrides: Partial<AutograderJob> = {}): AutograderJob {
  return {
    runId: randomUUID(),
    assignmentId,
    sourceHash,
    sourceFiles,
    submissionFiles: new Map([
      ['grade.sh', { bytes: Buffer.from(gradeSh) }],
      ['answer.txt', { bytes: Buffer.from('42\n') }],
    ]),
    metadataJson: JSON.stringify({ id: 987654 }),
    limits,
    ...overrides,
  };
}

/** Records heartbeats; `onRunning` fires once the pod's grader is running. */
function control(onRunning?: () => void): ExecutionControl & { phases: string[]; abort: AbortController } {
  const abort = new AbortController();
  const phases: string[] = [];
  return {
    phases,
    abort,
    abortSignal: abort.signal,
    heartbeat: (phase) => {
      if (phase === 'running' && !phases.includes('running')) onRunning?.();
      phases.push(phase);
    },
  };
}

describe('the Kubernetes executor on a real control plane', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  const executor = (options: Partial<KubernetesExecutorOptions> = {}): KubernetesExecutor =>
    new KubernetesExecutor({
      kubeConfig: cluster.executorConfig,
      namespace: cluster.namespace,
      imageFor: assignmentImageTag,
      region: 'us-west',
      unschedulableTimeoutSec: 10,
      trailerKey,
      ...options,
    });
  const assertRunObjectsGone = async (runId: string): Promise<void> => {
    const names = runNames(runId);
    const namespace = cluster.namespace;
    await assert.rejects(core.readNamespacedPod({ namespace, name: names.pod }), { code: 404 });
    await assert.rejects(core.readNamespacedSecret({ namespace, name: names.secret }), { code: 404 });
  };

  before(
    async () => {
      cluster = await startTestCluster(docker, nodes);
      core = cluster.admin.makeApiClient(CoreV1Api);
      const started = Date.now();
      await ensureAssignmentImage(
        docker,
        { assignmentId, sourceHash, sourceFiles, baseImage: requireEnv('GG_TEST_BASE_IMAGE'), networkMode: 'none' },
        120,
      );
      cluster.timings['assignment image'] = Date.now() - started;
    },
    { timeout: 15 * 60_000 }, // a cold build of the Kubernetes binaries takes about 10 minutes
  );
  after(async () => {
    if (!cluster) return;
    await waitFor(async () => (await cluster.kubelet.containerCount()) === 0, {
      description: 'the kubelet to have removed every grader container',
    });
    const left = await core.listNamespacedPod({ namespace: cluster.namespace });
    await cluster.stop();
    assert.deepEqual(
      left.items.map((pod) => pod.metadata?.name),
      [],
      'no grader pod outlives its run',
    );
  });

  it('grades a passing submission and brings results.json back through pods/log', async (t) => {
    const input = job(`set -e
echo "cwd=$(pwd)"
test -f /autograder/submission_metadata.json
answer=$(cat submission/answer.txt)
python3 -c "
import json, time
t = time.process_time()
while time.process_time() - t < 0.2: pass
json.dump({'score': $answer, 'tests': []}, open('/autograder/results/results.json', 'w'))"`);
    const ctl = control();
    const started = Date.now();
    const result = await executor().run(input, ctl);
    const returned = Date.now();
    assert.equal(result.outcome, 'completed');
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /cwd=\/autograder/);
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 42, tests: [] });
    assert.ok(result.startedAt && result.finishedAt && result.finishedAt >= result.startedAt);
    assert.ok((result.cpuTimeMs ?? 0) >= 150, `CPU time ${result.cpuTimeMs} ms`);
    assert.equal(result.imageTag, assignmentImageTag(assignmentId, sourceHash));
    assert.ok(
      cluster.kubelet.logRequests.some((path) => path.startsWith(`/containerLogs/grading/${result.pod.name}/grader`)),
      'the results came through the API server from the kubelet',
    );
    assert.ok(ctl.phases.includes('scheduling') && ctl.phases.includes('running'), ctl.phases.join(', '));
    await assertRunObjectsGone(input.runId);
    const { createdAt, scheduledAt, runningAt, endedAt, collectedAt } = result.pod.timeline;
    const ms = (from: Date | null, to: Date | null): number => (to?.getTime() ?? NaN) - (from?.getTime() ?? NaN);
    t.diagnostic(`set-up (ms): ${JSON.stringify(cluster.timings)}`);
    t.diagnostic(
      `turnaround ${returned - started} ms: create ${createdAt.getTime() - started}, schedule ${ms(createdAt, scheduledAt)}, ` +
        `start ${ms(scheduledAt, runningAt)}, run ${ms(runningAt, endedAt)}, collect ${ms(endedAt, collectedAt)}, ` +
        `delete ${returned - (collectedAt?.getTime() ?? NaN)}`,
    );
  });

  it('places pods only on nodes of the chosen region, and of the zone when one is given', async () => {
    const inRegion = await Promise.all([1, 2, 3].map(() => executor().run(job('echo ok'), control())));
    const inZone = await executor({ region: 'eu-north', zone: 'eu-north-b' }).run(job('echo ok'), control());
    for (const result of inRegion) {
      assert.ok(usWestNodes.has(result.placement.node), `ran on ${result.placement.node}`);
      assert.equal(result.placement.region, 'us-west');
      assert.equal(result.placement.labelsFrom, 'node');
    }
    assert.deepEqual(inZone.placement, { node: 'eun-b-1', region: 'eu-north', zone: 'eu-north-b', labelsFrom: 'node' });
  });

  it('fails clearly, within its deadline, when no node is in the region', async () => {
    const input = job('echo never');
    const started = Date.now();
    await assert.rejects(
      executor({ region: 'ap-south', unschedulableTimeoutSec: 2 }).run(input, control()),
      (error) => {
        assert.ok(error instanceof PodUnschedulableError);
        assert.match(error.message, /region ap-south/);
        assert.match(error.message, /didn't match Pod's node affinity/);
        return true;
      },
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 2000 && waited < 4000, `gave up after ${waited} ms`);
    await assertRunObjectsGone(input.runId);
  });

  it('gives up on a node that never starts the pod', async () => {
    const input = job('echo never');
    await assert.rejects(
      executor({ region: 'sa-east', startupAllowanceSec: 1 }).run(input, control()),
      (error) => error instanceof PodFailedError && /not started on stalled-1 within 1 s/.test(error.message),
    );
    await assertRunObjectsGone(input.runId);
  });

  it('reports a crash with its exit code and no results', async () => {
    const result = await executor().run(job('echo boom >&2; exit 3'), control());
    assert.equal(result.outcome, 'completed');
    assert.equal(result.exitCode, 3);
    assert.equal(result.resultsJson, null);
    assert.match(result.output, /boom/);
  });

  it('stops a grader that loops past its timeout and records a timeout', async () => {
    const started = Date.now();
    const result = await executor().run(
      job('echo started; while :; do :; done', { limits: { ...limits, timeoutSec: 2 } }),
      control(),
    );
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.exitCode, null);
    assert.match(result.output, /started/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('records out-of-memory for a grader over its memory limit', async () => {
    const result = await executor().run(job(`python3 -c "x = bytearray(512 * 1024 * 1024); print(len(x))"`), control());
    assert.equal(result.outcome, 'out-of-memory');
    assert.equal(result.resultsJson, null);
  });

  it('caps a grader flooding stdout and still collects its results', async () => {
    const result = await executor().run(
      job(`head -c 5000000 /dev/zero | tr '\\0' x; echo '{"score": 1}' > /autograder/results/results.json`),
      control(),
    );
    assert.equal(result.outputTruncated, true);
    assert.equal(result.output.length, limits.outputMaxBytes);
    assert.equal(result.resultsJson?.trim(), '{"score": 1}');
  });

  it('ends when the grader ends, even if it left a process holding its output', async () => {
    const started = Date.now();
    const result = await executor().run(
      job(`sleep 600 & echo '{"score": 2}' > /autograder/results/results.json; echo bye`),
      control(),
    );
    assert.equal(result.outcome, 'completed');
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /bye/);
    assert.equal(result.resultsJson?.trim(), '{"score": 2}');
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  it('fails with an image-pull error when the node cannot get the image', async () => {
    const input = job('echo never');
    await assert.rejects(
      executor({ imageFor: () => 'greengrader/assignment-missing:0000' }).run(input, control()),
      ImagePullError,
    );
    await assertRunObjectsGone(input.runId);
  });

  it('deletes the pod and its Secret when the run is cancelled', async () => {
    const input = job('sleep 600');
    const ctl = control(() => setTimeout(() => ctl.abort.abort(new Error('cancelled by test')), 200));
    await assert.rejects(executor().run(input, ctl), /cancelled by test/);
    await assertRunObjectsGone(input.runId);
    await waitFor(async () => (await cluster.kubelet.containerCount()) === 0, {
      description: 'the kubelet to remove the cancelled container',
    });
  });

  it('adopts the pod of a worker killed mid-run, and leaves nothing behind', async () => {
    const input = job(`sleep 3; echo '{"score": 7}' > /autograder/results/results.json`);
    const names = runNames(input.runId);
    const workerInput: WorkerInput = {
      server: cluster.controlPlane.apiUrl,
      caCertPem: cluster.controlPlane.caCertPem,
      token: cluster.executorToken,
      namespace: cluster.namespace,
      region: 'us-west',
      trailerKeyHex: trailerKey.toString('hex'),
      job: {
        ...input,
        sourceFiles: serializeTree(input.sourceFiles),
        submissionFiles: serializeTree(input.submissionFiles),
      },
    };
    const worker = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./support/worker-process.ts', import.meta.url))],
      { env: { ...process.env, GG_WORKER_INPUT: JSON.stringify(workerInput) }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const first = await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ namespace: cluster.namespace, name: names.pod });
        return pod.status?.phase === 'Running' ? pod : undefined;
      },
      { description: "the first attempt's pod to run", timeoutMs: 20_000 },
    );
    worker.kill('SIGKILL');
    await exited;

    const result = await executor().run(input, control());
    assert.equal(result.pod.adopted, true);
    assert.equal(result.pod.uid, first.metadata?.uid);
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 7 });
    await assertRunObjectsGone(input.runId);
  });

  it('replaces a leftover pod made from another spec instead of adopting it', async () => {
    const input = job(`echo '{"score": 9}' > /autograder/results/results.json`);
    const stale = { ...input, limits: { ...limits, timeoutSec: 99 } };
    const options = resolveOptions({
      kubeConfig: cluster.executorConfig,
      namespace: cluster.namespace,
      imageFor: assignmentImageTag,
      region: 'us-west',
    });
    const executorCore = cluster.executorConfig.makeApiClient(CoreV1Api);
    const leftover = await createOrAdoptPod(
      executorCore,
      buildGraderPod(stale, await packSubmission(stale), options),
      input.runId,
    );

    const result = await executor().run(input, control());
    assert.equal(result.pod.adopted, false);
    assert.notEqual(result.pod.uid, leftover.pod.metadata?.uid);
    assert.deepEqual(JSON.parse(result.resultsJson ?? 'null'), { score: 9 });
    await assertRunObjectsGone(input.runId);
  });

  it('runs as an identity that can manage its pods and nothing more', async () => {
    const core = cluster.executorConfig.makeApiClient(CoreV1Api);
    const apps = cluster.executorConfig.makeApiClient(AppsV1Api);
    await core.listNamespacedPod({ namespace: cluster.namespace }); // allowed
    await assert.rejects(core.listNode(), { code: 403 });
    await assert.rejects(core.listNamespacedSecret({ namespace: 'other' }), { code: 403 });
    await assert.rejects(core.readNamespacedSecret({ namespace: 'other', name: 'any' }), { code: 403 });
    await assert.rejects(core.listNamespacedSecret({ namespace: cluster.namespace }), { code: 403 });
    await assert.rejects(core.listNamespacedPod({ namespace: 'other' }), { code: 403 });
    await assert.rejects(
      apps.createNamespacedDeployment({
        namespace: cluster.namespace,
        body: {
          metadata: { name: 'escape' },
          spec: {
            selector: { matchLabels: { app: 'escape' } },
            template: { metadata: { labels: { app: 'escape' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
          },
        },
      }),
      { code: 403 },
    );
  });
});
