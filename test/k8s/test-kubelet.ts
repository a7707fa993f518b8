import { randomUUID } from 'node:crypto';
import {
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type Informer,
  type V1Pod,
} from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { startLogServer } from './kubelet/log-server.js';
import { KUBELET_LABEL, PodRunner } from './kubelet/pod-runner.js';

export interface TestNodeSpec {
  name: string;
  /** E.g. topology.kubernetes.io/region and /zone. */
  labels: Record<string, string>;
  /** Registered and Ready, but never starts a pod: a node whose kubelet hangs. */
  stalled?: boolean;
}

export interface TestKubeletOptions {
  /** Admin credentials: a test kubelet is not held to NodeRestriction. */
  kubeConfig: KubeConfig;
  docker: Docker;
  nodes: TestNodeSpec[];
  /** Serving certificate for 127.0.0.1, signed by the CA the API server's --kubelet-certificate-authority names. */
  serving: { certPem: string; keyPem: string };
  /** CA of the API server's kubelet client certificate. */
  clientCaPem: string;
  podPidsLimit?: number;
}

export interface TestKubelet {
  /** Paths of every /containerLogs request the API server proxied here. */
  logRequests: string[];
  /** Containers this kubelet started that still exist. */
  containerCount: () => Promise<number>;
  stop: () => Promise<void>;
}

// Enough for a few 1-CPU, 64 MiB graders per node; the scheduler only compares requests with these.
const capacity = { cpu: '4', memory: '8Gi', 'ephemeral-storage': '50Gi', pods: '110' };

/**
 * A kubelet for tests, in TypeScript: registers Ready nodes with the given labels, runs the pods the scheduler binds
 * to them in the local Docker engine (one PodRunner each), and serves their logs over mutual TLS so `pods/log`
 * through the API server works. All nodes share one process and one log endpoint on 127.0.0.1.
 */
export async function startTestKubelet(options: TestKubeletOptions): Promise<TestKubelet> {
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  const kubeletId = randomUUID();
  const nodeNames = new Set(options.nodes.map((node) => node.name));
  const stalled = new Set(options.nodes.filter((node) => node.stalled).map((node) => node.name));
  const runners = new Map<string, PodRunner>(); // by pod uid
  const byName = new Map<string, PodRunner>(); // by namespace/name
  const deps = { api, docker: options.docker, kubeletId, podPidsLimit: options.podPidsLimit ?? 1024 };

  const logServer = await startLogServer({
    ...options.serving,
    clientCaPem: options.clientCaPem,
    logs: async (namespace, pod, container, tailLines) => {
      const runner = byName.get(`${namespace}/${pod}`);
      return runner && runner.containerName === container ? runner.logs(tailLines) : undefined;
    },
  });
  for (const node of options.nodes) await registerNode(api, node, logServer.port);

  const forget = async (pod: V1Pod): Promise<void> => {
    const uid = pod.metadata?.uid ?? '';
    const runner = runners.get(uid);
    if (!runner) return;
    runners.delete(uid);
    byName.delete(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    await runner.stop();
  };
  const onPod = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid ?? '';
    if (!nodeNames.has(pod.spec?.nodeName ?? '')) return;
    if (pod.metadata?.deletionTimestamp) {
      // A graceful delete: stop the container, then confirm it, as a kubelet does; the uid precondition keeps a
      // newer pod of the same name (a retry's) safe.
      void forget(pod).then(() =>
        api
          .deleteNamespacedPod({
            name: pod.metadata?.name ?? '',
            namespace: pod.metadata?.namespace ?? '',
            gracePeriodSeconds: 0,
            body: { preconditions: { uid } },
          })
          .catch(() => undefined),
      );
      return;
    }
    if (runners.has(uid) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    if (stalled.has(pod.spec?.nodeName ?? '')) return;
    const runner = new PodRunner(pod, deps);
    runners.set(uid, runner);
    byName.set(`${pod.metadata?.namespace}/${pod.metadata?.name}`, runner);
    runner
      .run()
      .catch((error: unknown) => process.stderr.write(`[test-kubelet] ${pod.metadata?.name}: ${String(error)}\n`));
  };

  const informer: Informer<V1Pod> = makeInformer(options.kubeConfig, '/api/v1/pods', () =>
    api.listPodForAllNamespaces(),
  );
  let stopped = false;
  informer.on('add', onPod);
  informer.on('update', onPod);
  informer.on('delete', (pod) => void forget(pod));
  // The informer gives up on an error; a kubelet keeps watching.
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void informer.start(), 250);
  });
  await informer.start();

  const containerCount = async (): Promise<number> =>
    (await options.docker.listContainers({ all: true, filters: { label: [`${KUBELET_LABEL}=${kubeletId}`] } })).length;

  return {
    logRequests: logServer.requests,
    containerCount,
    stop: async () => {
      stopped = true;
      await informer.stop();
      await Promise.all([...runners.values()].map((runner) => runner.stop()));
      for (const name of nodeNames) await api.deleteNode({ name }).catch(() => undefined);
      await logServer.close();
    },
  };
}

/** Creates the node, reports it Ready at our log endpoint, and lifts the not-ready taint admission put on it. */
async function registerNode(api: CoreV1Api, node: TestNodeSpec, port: number): Promise<void> {
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  await api.createNode({
    body: { metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, ...node.labels } } },
  });
  await api.patchNodeStatus(
    {
      name: node.name,
      body: {
        status: {
          capacity,
          allocatable: capacity,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              lastHeartbeatTime: new Date(),
              lastTransitionTime: new Date(),
            },
          ],
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
        },
      },
    },
    merge,
  );
  // No node-lifecycle controller runs to lift it (tools/k8s/README.md); a Ready node should carry no such taint.
  await api.patchNode({ name: node.name, body: { spec: { taints: null } } }, merge);
}
