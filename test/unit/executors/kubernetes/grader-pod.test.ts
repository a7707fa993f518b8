import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { AutograderJob } from '../../../../src/executors/executor.js';
import { buildGraderPod, ownedSecret } from '../../../../src/executors/kubernetes/grader-pod.js';
import { registryImageNamer, resolveOptions } from '../../../../src/executors/kubernetes/options.js';
import { runNames } from '../../../../src/executors/kubernetes/run-names.js';

const job: AutograderJob = {
  runId: '3f1c2d9e-6a3b-4c1e-9f00-123456789abc',
  assignmentId: 12,
  sourceHash: 'ab'.repeat(32),
  sourceFiles: new Map(),
  submissionFiles: new Map(),
  metadataJson: JSON.stringify({ id: 777 }),
  limits: {
    timeoutSec: 600,
    memoryBytes: 768 * 1024 * 1024,
    nanoCpus: 1_500_000_000,
    pidsLimit: 256,
    outputMaxBytes: 1024,
    resultsMaxBytes: 1024,
  },
};
const options = resolveOptions({
  kubeConfig: new KubeConfig(),
  namespace: 'grading',
  imageFor: registryImageNamer('registry.example.edu/gg/'),
  region: 'us-west',
  zone: 'us-west-b',
});

describe('the grader pod', () => {
  const { pod, secret, image, specHash } = buildGraderPod(job, Buffer.from('payload'), options);
  const spec = pod.spec;
  const container = spec?.containers[0];

  it('requires a node of the chosen region and zone', () => {
    const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    assert.deepEqual(terms, [
      {
        matchExpressions: [
          { key: 'topology.kubernetes.io/region', operator: 'In', values: ['us-west'] },
          { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-west-b'] },
        ],
      },
    ]);
    assert.equal(spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution, undefined);
  });

  it('runs once, without a token or capabilities, within limits and a deadline', () => {
    assert.equal(spec?.restartPolicy, 'Never');
    assert.equal(spec?.automountServiceAccountToken, false);
    assert.equal(spec?.activeDeadlineSeconds, 600 + 300);
    // The root wrapper keeps these to run the grader as nobody, who has none.
    assert.deepEqual(container?.securityContext?.capabilities, { drop: ['ALL'], add: ['SETUID', 'SETGID', 'KILL'] });
    assert.equal(container?.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container?.resources?.limits, {
      cpu: '1500m',
      memory: String(768 * 1024 * 1024),
      'ephemeral-storage': String(4 * 1024 ** 3),
    });
    assert.deepEqual(container?.resources?.requests, container?.resources?.limits);
  });

  it('has a read-only root and writes only to a 1 GiB scratch emptyDir, unless the grader opts out', () => {
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(spec?.volumes?.find((volume) => volume.name === 'scratch')?.emptyDir, {
      sizeLimit: String(1024 ** 3),
    });
    const scratch = container?.volumeMounts
      ?.filter((mount) => mount.name === 'scratch')
      .map((mount) => mount.mountPath);
    assert.deepEqual(scratch, ['/autograder', '/tmp', '/var/tmp', '/root', '/home', '/run']);
    const writable = buildGraderPod(job, Buffer.from('payload'), { ...options, readOnlyRootFilesystem: false });
    assert.equal(writable.pod.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem, false);
  });

  it('names the image in the registry with the Docker executor tag scheme', () => {
    assert.equal(image, `registry.example.edu/gg/assignment-12:${'ab'.repeat(8)}`);
    assert.equal(container?.image, image);
  });

  it('ties pod and Secret to the run and the submission', () => {
    assert.equal(pod.metadata?.name, `gg-run-${job.runId}`);
    assert.equal(pod.metadata?.labels?.['greengrader.io/run'], job.runId);
    assert.equal(pod.metadata?.annotations?.['greengrader.io/submission-id'], '777');
    assert.equal(pod.metadata?.annotations?.['greengrader.io/spec-hash'], specHash);
    assert.equal(spec?.volumes?.[0]?.secret?.secretName, secret.metadata?.name);
    const owned = ownedSecret(secret, { metadata: { name: 'p', uid: 'u-1' } });
    assert.deepEqual(owned.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u-1' }]);
  });

  it('gives another spec hash when anything the pod is made from changes', () => {
    const longer = buildGraderPod(
      { ...job, limits: { ...job.limits, timeoutSec: 601 } },
      Buffer.from('payload'),
      options,
    );
    const otherInput = buildGraderPod(job, Buffer.from('payload2'), options);
    assert.notEqual(longer.specHash, specHash);
    assert.notEqual(otherInput.specHash, specHash);
    assert.equal(buildGraderPod(job, Buffer.from('payload'), options).specHash, specHash);
  });
});

describe('run names', () => {
  it('keep a UUID run id and hash anything that is not a valid label value', () => {
    assert.equal(runNames(job.runId).key, job.runId);
    const odd = runNames('grade-ABC/rerun 1');
    assert.match(odd.key, /^h[0-9a-f]{40}$/);
    assert.ok(odd.secret.length <= 63);
    assert.equal(runNames('grade-ABC/rerun 1').pod, odd.pod);
  });
});
