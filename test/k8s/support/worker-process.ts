/**
 * A worker in its own process, for the "worker killed mid-run" test: runs one job with the Kubernetes executor and
 * is SIGKILLed by the test while the pod runs, so nothing of ours gets to clean up.
 *   node --import tsx test/k8s/support/worker-process.ts   (GG_WORKER_INPUT = JSON of WorkerInput)
 */
import { assignmentImageTag } from '../../../src/executors/docker/assignment-image.js';
import type { AutograderJob, FileTree } from '../../../src/executors/executor.js';
import { loadKubeConfig } from '../../../src/executors/kubernetes/kube-config.js';
import { KubernetesExecutor } from '../../../src/executors/kubernetes/kubernetes-executor.js';

type SerializedTree = [path: string, base64: string, mode: number | undefined][];

export interface WorkerInput {
  server: string;
  caCertPem: string;
  token: string;
  namespace: string;
  region: string;
  /** The executor's trailer key (hex): the restarted worker must share it to adopt the pod. */
  trailerKeyHex: string;
  job: Omit<AutograderJob, 'sourceFiles' | 'submissionFiles'> & {
    sourceFiles: SerializedTree;
    submissionFiles: SerializedTree;
  };
}

export function serializeTree(tree: FileTree): SerializedTree {
  return [...tree].map(([path, file]) => [path, Buffer.from(file.bytes).toString('base64'), file.mode]);
}

function deserializeTree(entries: SerializedTree): FileTree {
  return new Map(entries.map(([path, base64, mode]) => [path, { bytes: Buffer.from(base64, 'base64'), mode }]));
}

async function main(): Promise<void> {
  const input = JSON.parse(process.env.GG_WORKER_INPUT ?? '') as WorkerInput;
  const executor = new KubernetesExecutor({
    kubeConfig: loadKubeConfig({ kind: 'token', server: input.server, caCertPem: input.caCertPem, token: input.token }),
    namespace: input.namespace,
    imageFor: assignmentImageTag,
    region: input.region,
    trailerKey: Buffer.from(input.trailerKeyHex, 'hex'),
  });
  const job: AutograderJob = {
    ...input.job,
    sourceFiles: deserializeTree(input.job.sourceFiles),
    submissionFiles: deserializeTree(input.job.submissionFiles),
  };
  await executor.run(job, {
    heartbeat: (phase) => process.stdout.write(`${phase}\n`),
    abortSignal: new AbortController().signal,
  });
}

if (process.env.GG_WORKER_INPUT !== undefined) await main();
