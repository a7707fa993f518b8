// A real Kubernetes control plane on loopback for the k8s tests; the binaries come from scripts/build-k8s.sh.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../src/executors/kubernetes/kube-config.js';
import { freePort } from '../../../src/services/free-port.js';
import { once } from '../../../src/services/once.js';
import type { RunningService } from '../../../src/services/running-service.js';
import { spawnLogged, stopProcess, type LoggedProcess } from '../../../src/services/spawn-logged.js';
import { waitUntilReady } from '../../../src/services/wait-until-ready.js';
import { createIfMissing, kubeHttps, type KubeHttpsTarget } from './kube-https.js';
import { createKubePki, writeTokenFile, type KubePki } from './kube-pki.js';

export interface KubeControlPlaneOptions {
  /** Holds `etcd`, `kube-apiserver` and `kube-scheduler` (what `scripts/build-k8s.sh` prints). */
  binDir: string;
  /** PKI, etcd data, kubeconfig and logs go here; the caller owns (and removes) it. */
  dir: string;
  /** Created with their `default` ServiceAccount, since no controller-manager runs to do it. */
  namespaces?: string[];
  /** How long etcd, the API server and the scheduler together may take to answer; default 60 s. */
  startTimeoutMs?: number;
}

export interface RunningKubeControlPlane extends RunningService {
  /** `https://127.0.0.1:PORT` */
  apiUrl: string;
  /** Bearer token of a `system:masters` user. */
  adminToken: string;
  /** Verifies the API server; it also signed the certificate the API server presents to kubelets. */
  caCertPem: string;
  /** To issue more certificates, e.g. a test kubelet's serving certificate (see issueCertificate). */
  pki: KubePki;
  /** The admin user's client configuration; also written to adminKubeconfigFile. */
  adminConfig: KubeConfig;
  /** A kubeconfig file for the admin user (what the scheduler uses). */
  adminKubeconfigFile: string;
  logFiles: { etcd: string; apiserver: string; scheduler: string };
}

/**
 * Starts etcd, kube-apiserver (token auth, RBAC, ServiceAccount tokens) and kube-scheduler on loopback with a
 * fresh openssl PKI, then creates the namespaces asked for. No controller-manager and no kubelet: a test brings
 * its own nodes. Flags follow tools/k8s/README.md.
 */
export async function startKubeControlPlane(options: KubeControlPlaneOptions): Promise<RunningKubeControlPlane> {
  const dir = path.resolve(options.dir);
  const bin = (name: string): string => path.join(options.binDir, name);
  const [pki, etcdPort, etcdPeerPort, apiPort, schedulerPort] = await Promise.all([
    createKubePki(path.join(dir, 'pki')),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const adminToken = randomBytes(24).toString('hex');
  const tokenFile = path.join(pki.dir, 'tokens.csv');
  await writeTokenFile(tokenFile, [{ token: adminToken, name: 'admin', groups: ['system:masters'] }]);
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const caCertPem = await readFile(pki.caCertFile, 'utf8');
  const adminConfig = loadKubeConfig({ kind: 'token', server: apiUrl, caCertPem, token: adminToken });
  const adminKubeconfigFile = path.join(dir, 'admin.kubeconfig');
  // exportConfig writes JSON, which is YAML to the scheduler.
  await writeFile(adminKubeconfigFile, adminConfig.exportConfig(), { mode: 0o600 });
  const logFiles = {
    etcd: path.join(dir, 'etcd.log'),
    apiserver: path.join(dir, 'kube-apiserver.log'),
    scheduler: path.join(dir, 'kube-scheduler.log'),
  };
  const admin: KubeHttpsTarget = { baseUrl: apiUrl, caCertPem, token: adminToken };
  const timeoutMs = options.startTimeoutMs ?? 60_000;

  const processes: LoggedProcess[] = [];
  // Newest first: the scheduler and the API server let go of etcd before it stops.
  const stop = once(async () => {
    for (const process of processes.reverse()) await stopProcess(process, { graceMs: 5_000 });
  });
  try {
    await mkdir(path.join(dir, 'etcd'), { recursive: true, mode: 0o700 });
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = spawnLogged(
      bin('etcd'),
      [
        '--name=gg',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=gg=${peerUrl}`,
        '--unsafe-no-fsync', // test data: losing it on a crash costs nothing, fsync costs seconds
        '--log-level=warn',
      ],
      { logFile: logFiles.etcd },
    );
    processes.push(etcd);
    await waitUntilReady({
      what: `etcd on ${etcdUrl}`,
      probe: async () => (await fetch(`${etcdUrl}/readyz`)).ok,
      timeoutMs,
      intervalMs: 50,
      logFile: logFiles.etcd,
      exited: etcd.exited,
    });

    const apiserver = spawnLogged(
      bin('kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${pki.apiserverCertFile}`,
        `--tls-private-key-file=${pki.apiserverKeyFile}`,
        `--cert-dir=${path.join(dir, 'certs')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.serviceAccountPubFile}`,
        `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        // A loopback advertise address makes the default reconciler exit (tools/k8s/README.md).
        '--endpoint-reconciler-type=none',
        // pods/log is proxied to the node's kubelet: verify it, present our own client certificate,
        // and dial the node's InternalIP (a test node's hostname resolves nowhere).
        `--kubelet-certificate-authority=${pki.caCertFile}`,
        `--kubelet-client-certificate=${pki.kubeletClientCertFile}`,
        `--kubelet-client-key=${pki.kubeletClientKeyFile}`,
        '--kubelet-preferred-address-types=InternalIP',
      ],
      { logFile: logFiles.apiserver },
    );
    processes.push(apiserver);
    // The scheduler retries until the API server answers, so both start together.
    const scheduler = spawnLogged(
      bin('kube-scheduler'),
      [
        `--kubeconfig=${adminKubeconfigFile}`,
        `--authentication-kubeconfig=${adminKubeconfigFile}`,
        `--authorization-kubeconfig=${adminKubeconfigFile}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${schedulerPort}`,
        '--leader-elect=false',
      ],
      { logFile: logFiles.scheduler },
    );
    processes.push(scheduler);
    await waitUntilReady({
      what: `kube-apiserver on ${apiUrl}`,
      probe: async () => (await kubeHttps(admin, 'GET', '/readyz')).text === 'ok',
      timeoutMs,
      logFile: logFiles.apiserver,
      exited: apiserver.exited,
    });
    await waitUntilReady({
      what: `kube-scheduler on 127.0.0.1:${schedulerPort}`,
      // The scheduler serves a self-signed certificate of its own; /readyz only says whether it is up.
      probe: async () =>
        (await kubeHttps({ baseUrl: `https://127.0.0.1:${schedulerPort}`, caCertPem: null }, 'GET', '/readyz')).text ===
        'ok',
      timeoutMs,
      logFile: logFiles.scheduler,
      exited: scheduler.exited,
    });
    for (const namespace of options.namespaces ?? []) await createNamespace(admin, namespace);
  } catch (error) {
    await stop();
    throw error;
  }
  return { apiUrl, adminToken, caCertPem, pki, adminConfig, adminKubeconfigFile, logFiles, stop };
}

/** Creates a namespace and its `default` ServiceAccount, which a pod needs to be admitted. */
async function createNamespace(admin: KubeHttpsTarget, namespace: string): Promise<void> {
  await createIfMissing(admin, '/api/v1/namespaces', { metadata: { name: namespace } });
  await createIfMissing(admin, `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: 'default' } });
}
