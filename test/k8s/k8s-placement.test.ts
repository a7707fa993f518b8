import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { eq } from 'drizzle-orm';
import { nodes as nodesTable } from '../../src/db/schema.js';
import { ensureAssignmentImage } from '../../src/executors/docker/assignment-image.js';
import type { FileTree } from '../../src/executors/executor.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { gradingStatusQuery } from '../../src/workflows/grade-submission.js';
import { parseSubmission } from '../../src/submission/index.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { requireEnv } from '../support/env.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

const docker = new Docker();
const regionLabel = 'topology.kubernetes.io/region';
const zoneLabel = 'topology.kubernetes.io/zone';
const clusterNodes = [
  { name: 'usw-a-1', labels: { [regionLabel]: 'us-west', [zoneLabel]: 'us-west-a' } },
  { name: 'use-a-1', labels: { [regionLabel]: 'us-east', [zoneLabel]: 'us-east-a' } },
];

/** The assignment image a Docker node would build, put straight into the test kubelet's engine. */
async function putAssignmentImage(zip: Uint8Array): Promise<void> {
  const parsed = await parseSubmission(zip, {
    limits: { maxEntries: 10_000, maxUncompressedBytes: 256 * 1024 * 1024 },
    anonymise: false,
  });
  const sourceFiles: FileTree = new Map();
  for (const [path, bytes] of parsed.sourceFiles) {
    sourceFiles.set(path, { bytes, mode: bytes[0] === 0x23 && bytes[1] === 0x21 ? 0o755 : 0o644 });
  }
  await ensureAssignmentImage(
    docker,
    {
      assignmentId: parsed.metadata.assignment.id,
      sourceHash: parsed.sourceHash,
      sourceFiles,
      baseImage: requireEnv('GG_TEST_BASE_IMAGE'),
      networkMode: 'none',
    },
    120,
  );
}

describe('a Kubernetes region as a placement candidate', () => {
  let cluster: TestCluster;
  let stack: GradingStack;
  // Workflow ids are the payload's hash and Temporal is shared by all test files: make the bytes ours.
  let zip: Uint8Array;

  before(
    async () => {
      zip = await buildGradescopeZip({ extra: { 'gradescope/test-nonce': randomUUID() } });
      [cluster] = await Promise.all([startTestCluster(docker, clusterNodes), putAssignmentImage(zip)]);
      stack = await startGradingStack({ nodes: 0 });
    },
    { timeout: 15 * 60_000 }, // a cold build of the Kubernetes binaries takes about 10 minutes
  );
  after(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  it('grades a published submission in a pod on a node of the region', { timeout: 60_000 }, async () => {
    const worker = await stack.startNode(
      {
        K8S_REGION: 'us-west',
        K8S_NAMESPACE: cluster.namespace,
        // The executor's least-privilege token, as a kubeconfig given inline (JSON is YAML).
        KUBECONFIG_INLINE: cluster.executorConfig.exportConfig(),
        K8S_UNSCHEDULABLE_TIMEOUT_SEC: '20',
      },
      undefined,
      { kind: 'kubernetes' },
    );
    assert.match(worker.nodeName, /^k8s-us-west-/);
    const [row] = await stack.database.db.select().from(nodesTable).where(eq(nodesTable.name, worker.nodeName));
    assert.ok(row);
    assert.equal(row.kind, 'kubernetes');
    assert.equal(row.region, 'us-west');
    assert.equal(row.zone, '');
    assert.equal(row.maxConcurrentRuns, 4);
    assert.equal(row.cpuModel, 'kubernetes');
    assert.equal(row.cores, 4);

    const { path, sha256 } = await writeZipFile(zip);
    await mosquittoPub(brokerOf(stack.config), path);
    const run = await stack.waitForRun(ingestWorkflowId(sha256), undefined, 50_000);

    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.outcome, 'graded');
    assert.equal(run.score, 10);
    assert.equal(run.executor, 'kubernetes');
    assert.equal(run.nodeName, worker.nodeName);
    assert.equal(run.region, 'us-west');
    assert.equal(run.executorNode, 'usw-a-1', 'the pod ran on the us-west node');
    assert.equal(run.executorRegion, 'us-west');
    assert.equal(run.executorZone, 'us-west-a');
    assert.equal(run.exitCode, 0);
    assert.ok(run.containerStartedAt && run.containerFinishedAt);
    assert.equal((run.plan as { candidates: { kind: string }[] }).candidates[0]?.kind, 'k8s-region');
  });

  it('moves a run on at once when its region cannot schedule the pod', { timeout: 60_000 }, async () => {
    // A region with no cluster node, and more free slots than us-west: carbon-agnostic placement picks it first.
    const nowhere = await stack.startNode(
      {
        K8S_REGION: 'us-north',
        K8S_NAMESPACE: cluster.namespace,
        KUBECONFIG_INLINE: cluster.executorConfig.exportConfig(),
        K8S_MAX_CONCURRENT_RUNS: '8',
        K8S_UNSCHEDULABLE_TIMEOUT_SEC: '2',
      },
      undefined,
      { kind: 'kubernetes' },
    );
    const other = await buildGradescopeZip({ extra: { 'gradescope/test-nonce': randomUUID() } });
    const { path, sha256 } = await writeZipFile(other);
    await mosquittoPub(brokerOf(stack.config), path);
    const workflowId = ingestWorkflowId(sha256);
    const run = await stack.waitForRun(workflowId, undefined, 50_000);

    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.score, 10);
    assert.equal(run.executorRegion, 'us-west');
    // One attempt on us-north (non-retryable), one on us-west: a retryable fault would have taken three on us-north.
    assert.equal(run.attempts, 2);
    const status = await stack.temporal.workflow.getHandle(workflowId).query(gradingStatusQuery);
    assert.equal(status.attempts, 2);
    assert.match(status.lastError ?? '', new RegExp(`^node ${nowhere.nodeName} cannot run it: .*unschedulable`));
  });
});
