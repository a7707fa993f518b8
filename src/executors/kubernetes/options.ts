import { createHmac, randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

/** Node label keys that name a node's region and zone. */
interface TopologyLabelKeys {
  region: string;
  zone: string;
}

const defaultLabelKeys: TopologyLabelKeys = {
  region: 'topology.kubernetes.io/region',
  zone: 'topology.kubernetes.io/zone',
};

/** Explicit requests; each defaults to the matching limit (requests = limits: Guaranteed QoS, least evictable). */
interface GraderRequests {
  cpuMillis?: number;
  memoryBytes?: number;
  ephemeralStorageBytes?: number;
}

export interface KubernetesExecutorOptions {
  /** Who we are and where the API server is (see loadKubeConfig: file, in-cluster or inline). */
  kubeConfig: KubeConfig;
  /** Grader pods and their Secrets live here; the executor's Role is limited to it. */
  namespace: string;
  /**
   * The image of an assignment, e.g. registryImageNamer('registry.example.edu/greengrader'). The image must be in
   * that registry already (see README.md: built by ensureAssignmentImage, then pushed).
   */
  imageFor: (assignmentId: number, sourceHash: string) => string;
  /** Default IfNotPresent: images are immutable per source hash, so a cached one is always right. */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Secrets in `namespace` holding registry credentials. */
  imagePullSecrets?: string[];
  /** Required: the pod may run only on a node labelled with this region… */
  region: string;
  /** …and, when given, this zone. */
  zone?: string;
  labelKeys?: TopologyLabelKeys;
  /** Limits come from the job (CPU, memory); ephemeral storage is a cluster concern. Default 4 GiB (the original's). */
  ephemeralStorageBytes?: number;
  /**
   * `sizeLimit` of the pod's scratch emptyDir, which holds every folder the grader writes (/autograder, /tmp,
   * /var/tmp, HOME=/root, /home, /run); over it the kubelet evicts the pod. Default 1 GiB, the Docker cap
   * (GRADER_DISK_LIMIT_BYTES). Keep it within `ephemeralStorageBytes`.
   */
  diskLimitBytes?: number;
  /**
   * Default true: the image is read-only and only the scratch folders are writable. Set false for a grader that
   * must write elsewhere at run time (e.g. `pip install` into /usr/local) — K8S_GRADER_READ_ONLY_ROOT=false.
   */
  readOnlyRootFilesystem?: boolean;
  requests?: GraderRequests;
  /** A pod still unbound this long after creation fails with PodUnschedulableError. Default 120 s. */
  unschedulableTimeoutSec?: number;
  /**
   * Added to the grader's timeout in `activeDeadlineSeconds`, which the kubelet counts from the pod's start on the
   * node, image pull included. Default 300 s: a cold pull of a Gradescope-sized image.
   */
  startupAllowanceSec?: number;
  /**
   * The grader's timeout is enforced inside the pod (`timeout`); if the pod is still running this long after that,
   * the executor deletes it and records a timeout. Default 30 s.
   */
  timeoutGraceSec?: number;
  /** Default 5 s: well inside any activity heartbeat timeout. */
  heartbeatIntervalMs?: number;
  /** Default `default`; the pod mounts no token of it either way. */
  serviceAccountName?: string;
  /**
   * Key of the per-run trailer nonce (HMAC of the run id): the pod's log counts only a trailer carrying it. Default:
   * random per executor, so a worker restart never adopts a pod whose nonce it cannot check (it makes a new one);
   * K8S_TRAILER_KEY makes it stable across restarts.
   */
  trailerKey?: Buffer;
  /** E.g. `gvisor` where the cluster offers a sandboxed runtime for untrusted code. */
  runtimeClassName?: string;
}

/** Options with every default applied. */
export type ResolvedKubernetesOptions = Required<Omit<KubernetesExecutorOptions, 'zone' | 'runtimeClassName'>> &
  Pick<KubernetesExecutorOptions, 'zone' | 'runtimeClassName'>;

export function resolveOptions(options: KubernetesExecutorOptions): ResolvedKubernetesOptions {
  return {
    ...options,
    imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
    imagePullSecrets: options.imagePullSecrets ?? [],
    labelKeys: options.labelKeys ?? defaultLabelKeys,
    ephemeralStorageBytes: options.ephemeralStorageBytes ?? 4 * 1024 ** 3,
    diskLimitBytes: options.diskLimitBytes ?? 1024 ** 3,
    readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? true,
    trailerKey: options.trailerKey ?? randomBytes(32),
    requests: options.requests ?? {},
    unschedulableTimeoutSec: options.unschedulableTimeoutSec ?? 120,
    startupAllowanceSec: options.startupAllowanceSec ?? 300,
    timeoutGraceSec: options.timeoutGraceSec ?? 30,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5_000,
    serviceAccountName: options.serviceAccountName ?? 'default',
  };
}

/** The run's trailer nonce: unknown to the grader, which runs as another user than the wrapper that reads it. */
export function trailerNonce(options: ResolvedKubernetesOptions, runId: string): string {
  return createHmac('sha256', options.trailerKey).update(runId).digest('hex').slice(0, 32);
}

/** Image names under a registry prefix, with the tag scheme of the Docker executor's local builds. */
export function registryImageNamer(prefix: string): (assignmentId: number, sourceHash: string) => string {
  const base = prefix.replace(/\/+$/, '');
  return (assignmentId, sourceHash) => `${base}/assignment-${assignmentId}:${sourceHash.slice(0, 16)}`;
}
