import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, type KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { loadKubeConfig } from '../../../src/executors/kubernetes/kube-config.js';
import { executorRbac } from '../../../src/executors/kubernetes/rbac.js';
import { startTestKubelet, type TestKubelet, type TestNodeSpec } from '../test-kubelet.js';
import { startKubeControlPlane, type RunningKubeControlPlane } from './kube-control-plane.js';
import { issueCertificate } from './kube-pki.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export interface TestCluster {
  controlPlane: RunningKubeControlPlane;
  kubelet: TestKubelet;
  admin: KubeConfig;
  /** The executor's least-privilege identity: a TokenRequest token of its ServiceAccount. */
  executorToken: string;
  executorConfig: KubeConfig;
  namespace: string;
  /** Milliseconds each step of the set-up took. */
  timings: Record<string, number>;
  stop: () => Promise<void>;
}

/** The directory of kube-apiserver, kube-scheduler and etcd: GG_K8S_BIN_DIR's, via scripts/build-k8s.sh. */
export async function kubeBinDir(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [path.join(repoRoot, 'scripts/build-k8s.sh')], {
    cwd: repoRoot,
  });
  return stdout.trim();
}

/**
 * A control plane, a test kubelet with the given nodes, the grading namespace (plus `other`, for RBAC tests) and
 * the executor's ServiceAccount bound to its Role, with a fresh token.
 */
export async function startTestCluster(docker: Docker, nodes: TestNodeSpec[]): Promise<TestCluster> {
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, action: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const value = await action();
    timings[step] = Date.now() - started;
    return value;
  };
  const namespace = 'grading';
  const binDir = await timed('build-k8s.sh', kubeBinDir);
  const dir = await mkdtemp(path.join(tmpdir(), 'gg-k8s-test-'));
  const controlPlane = await timed('control plane', () =>
    startKubeControlPlane({ binDir, dir, namespaces: [namespace, 'other'] }),
  );
  let kubelet: TestKubelet | undefined;
  try {
    const admin = controlPlane.adminConfig;
    kubelet = await timed('kubelet and nodes', async () => {
      const serving = await issueCertificate(controlPlane.pki, {
        name: 'test-kubelet',
        commonName: 'test-kubelet',
        subjectAltNames: ['IP:127.0.0.1'],
        usage: 'server',
      });
      return startTestKubelet({ kubeConfig: admin, docker, nodes, serving, clientCaPem: controlPlane.caCertPem });
    });
    const executorToken = await timed('executor identity', () => createExecutorIdentity(admin, namespace));
    const executorConfig = loadKubeConfig({
      kind: 'token',
      server: controlPlane.apiUrl,
      caCertPem: controlPlane.caCertPem,
      token: executorToken,
    });
    const running = kubelet;
    return {
      controlPlane,
      kubelet: running,
      admin,
      executorToken,
      executorConfig,
      namespace,
      timings,
      stop: async () => {
        await running.stop();
        await controlPlane.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await kubelet?.stop();
    await controlPlane.stop();
    throw error;
  }
}

/** Applies executorRbac as the admin would, then asks the TokenRequest API for a token of the ServiceAccount. */
async function createExecutorIdentity(admin: KubeConfig, namespace: string): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const objects = executorRbac(namespace);
  const serviceAccount = objects.serviceAccount.metadata?.name ?? '';
  await core.createNamespacedServiceAccount({ namespace, body: objects.serviceAccount });
  await rbac.createNamespacedRole({ namespace, body: objects.role });
  await rbac.createNamespacedRoleBinding({ namespace, body: objects.roleBinding });
  await rbac.createClusterRole({ body: objects.nodeReader });
  await rbac.createClusterRoleBinding({ body: objects.nodeReaderBinding });
  const request = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  return token;
}
