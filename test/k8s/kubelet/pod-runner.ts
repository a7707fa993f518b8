import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodStatus,
} from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { packTar, type TarEntry } from '../../../src/executors/tar-archive.js';

/** Docker label on every container a test kubelet starts, valued with the kubelet's id. */
export const KUBELET_LABEL = 'gg-test-kubelet';
const POD_UID_LABEL = 'gg-test-kubelet.pod-uid';

export interface PodRunnerDeps {
  api: CoreV1Api;
  docker: Docker;
  kubeletId: string;
  /** Kubernetes has no per-pod pids field; a real kubelet applies its own --pod-max-pids the same way. */
  podPidsLimit: number;
}

/**
 * Runs one pod bound to a test node, the way a kubelet would but on the local Docker engine: mounts its Secret
 * volumes (copied in), starts its single container with the pod's limits, writes the status through Pending,
 * Running and Succeeded/Failed (exit code, OOMKilled, DeadlineExceeded), and removes the container once the pod
 * is deleted. Only what grader pods use is supported.
 */
export class PodRunner {
  container: Docker.Container | undefined;
  private deleted = false;
  private deadlineExceeded = false;
  private readonly namespace: string;
  private readonly name: string;

  constructor(
    private readonly pod: V1Pod,
    private readonly deps: PodRunnerDeps,
  ) {
    this.namespace = pod.metadata?.namespace ?? '';
    this.name = pod.metadata?.name ?? '';
  }

  get containerName(): string {
    return this.pod.spec?.containers[0]?.name ?? '';
  }

  async run(): Promise<void> {
    const spec = this.pod.spec;
    const main = spec?.containers[0];
    if (!spec || !main || spec.containers.length !== 1 || spec.initContainers?.length) {
      return this.patch({ phase: 'Failed', reason: 'Unsupported', message: 'the test kubelet runs one container' });
    }
    const startTime = new Date();
    await this.patch({
      phase: 'Pending',
      startTime,
      hostIP: '127.0.0.1',
      containerStatuses: [this.containerStatus({ waiting: { reason: 'ContainerCreating' } })],
    });
    const files = await this.secretFiles();
    if (this.deleted) return;
    if (!(await this.imageExists(main.image ?? ''))) {
      const message = `image ${main.image} is not in the node's Docker engine (the test kubelet never pulls)`;
      return this.patch({
        containerStatuses: [this.containerStatus({ waiting: { reason: 'ErrImagePull', message } })],
      });
    }
    const limits = main.resources?.limits ?? {};
    const memory = limits.memory === undefined ? undefined : parseQuantity(limits.memory);
    const security = main.securityContext;
    const container = await this.deps.docker.createContainer({
      Image: main.image,
      Cmd: [...(main.command ?? []), ...(main.args ?? [])],
      WorkingDir: main.workingDir,
      Env: (main.env ?? []).map((variable) => `${variable.name}=${variable.value ?? ''}`),
      User: security?.runAsUser === undefined ? undefined : String(security.runAsUser),
      Labels: { [KUBELET_LABEL]: this.deps.kubeletId, [POD_UID_LABEL]: this.pod.metadata?.uid ?? '' },
      HostConfig: {
        NetworkMode: 'none', // the test cluster has no pod network
        Memory: memory,
        MemorySwap: memory,
        NanoCpus: limits.cpu === undefined ? undefined : Math.round(parseQuantity(limits.cpu) * 1e9),
        PidsLimit: this.deps.podPidsLimit,
        CapDrop: security?.capabilities?.drop,
        CapAdd: security?.capabilities?.add,
        SecurityOpt: security?.allowPrivilegeEscalation === false ? ['no-new-privileges'] : [],
        ReadonlyRootfs: security?.readOnlyRootFilesystem ?? false,
        // Secret mounts are Docker volumes so files can be copied in under a read-only root (Docker refuses
        // copies onto a read-only rootfs, not into a volume); emptyDirs are tmpfs capped at their sizeLimit, one
        // per mount (a real kubelet counts all subPaths of one emptyDir together).
        Mounts: files.map(({ mountPath }) => ({ Type: 'volume' as const, Source: '', Target: mountPath })),
        Tmpfs: this.emptyDirMounts(),
        LogConfig: { Type: 'json-file', Config: {} }, // what /containerLogs reads
      },
    });
    this.container = container;
    if (this.deleted) return this.removeContainer();
    for (const { mountPath, entries } of files) await container.putArchive(await packTar(entries), { path: mountPath });
    // Observed at once: a pod deleted while it starts removes the container, and this wait then rejects.
    const exited = container.wait({ condition: 'next-exit' }).catch(() => undefined);
    await container.start();
    const state = (await container.inspect()).State;
    await this.patch({
      phase: 'Running',
      containerStatuses: [this.containerStatus({ running: { startedAt: new Date(state.StartedAt) } }, true)],
    });
    const deadline = spec.activeDeadlineSeconds;
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              this.deadlineExceeded = true;
              void container.kill().catch(() => undefined);
            },
            deadline * 1000 - (Date.now() - startTime.getTime()),
          );
    await exited;
    clearTimeout(timer);
    if (this.deleted) return;
    const ended = (await container.inspect()).State;
    const reason = ended.OOMKilled ? 'OOMKilled' : ended.ExitCode === 0 ? 'Completed' : 'Error';
    await this.patch({
      phase: ended.ExitCode === 0 && !this.deadlineExceeded ? 'Succeeded' : 'Failed',
      ...(this.deadlineExceeded
        ? { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }
        : {}),
      containerStatuses: [
        this.containerStatus({
          terminated: {
            exitCode: ended.ExitCode,
            reason,
            startedAt: new Date(ended.StartedAt),
            finishedAt: new Date(ended.FinishedAt),
            containerID: `docker://${container.id}`,
          },
        }),
      ],
    });
  }

  /** The pod is gone from the API: stop and remove its container. */
  async stop(): Promise<void> {
    this.deleted = true;
    await this.removeContainer();
  }

  /** Demultiplexed stdout and stderr, in order, as a kubelet's log file would hold them. */
  async logs(tailLines: number | undefined): Promise<Buffer> {
    if (!this.container) return Buffer.alloc(0);
    const raw = await this.container.logs({
      stdout: true,
      stderr: true,
      follow: false,
      ...(tailLines === undefined ? {} : { tail: tailLines }),
    });
    return demux(raw);
  }

  private async removeContainer(): Promise<void> {
    await this.container?.remove({ force: true, v: true }).catch(() => undefined);
  }

  private containerStatus(state: V1ContainerStatus['state'], ready = false): V1ContainerStatus {
    const main = this.pod.spec?.containers[0];
    return {
      name: main?.name ?? '',
      image: main?.image ?? '',
      imageID: '',
      ready,
      restartCount: 0,
      state,
      ...(this.container ? { containerID: `docker://${this.container.id}` } : {}),
    };
  }

  /** Strategic merge keeps the scheduler's PodScheduled condition and merges container statuses by name. */
  private async patch(status: V1PodStatus): Promise<void> {
    if (this.deleted) return;
    try {
      await this.deps.api.patchNamespacedPodStatus(
        { name: this.name, namespace: this.namespace, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error; // deleted meanwhile
    }
  }

  /** Secret volumes as files to copy in; a Secret not there yet is waited for, as a kubelet retries the mount. */
  private async secretFiles(): Promise<{ mountPath: string; entries: TarEntry[] }[]> {
    const mounts: { mountPath: string; entries: TarEntry[] }[] = [];
    const main = this.pod.spec?.containers[0];
    for (const mount of main?.volumeMounts ?? []) {
      const source = this.pod.spec?.volumes?.find((volume) => volume.name === mount.name)?.secret;
      if (!source?.secretName) continue;
      const data = await this.waitForSecret(source.secretName);
      if (data === undefined) return [];
      const entries: TarEntry[] = [];
      const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined }));
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined) continue;
        const mode = item.mode ?? source.defaultMode ?? 0o644;
        entries.push({ path: item.path, bytes: Buffer.from(value, 'base64'), mode });
      }
      mounts.push({ mountPath: mount.mountPath, entries });
    }
    return mounts;
  }

  /** emptyDir mounts as Docker tmpfs options, world-writable as a kubelet makes them. */
  private emptyDirMounts(): Record<string, string> {
    const main = this.pod.spec?.containers[0];
    const tmpfs: Record<string, string> = {};
    for (const mount of main?.volumeMounts ?? []) {
      const source = this.pod.spec?.volumes?.find((volume) => volume.name === mount.name)?.emptyDir;
      if (source === undefined) continue;
      const size = source.sizeLimit === undefined ? '' : `,size=${parseQuantity(source.sizeLimit)}`;
      tmpfs[mount.mountPath] = `rw,exec,mode=1777${size}`;
    }
    return tmpfs;
  }

  private async waitForSecret(name: string): Promise<Record<string, string> | undefined> {
    while (!this.deleted) {
      try {
        return (await this.deps.api.readNamespacedSecret({ name, namespace: this.namespace })).data ?? {};
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
      }
      await sleep(50);
    }
    return undefined;
  }

  private async imageExists(image: string): Promise<boolean> {
    try {
      await this.deps.docker.getImage(image).inspect();
      return true;
    } catch {
      return false;
    }
  }
}

/** Docker's multiplexed log format: 8-byte frame headers (stream, 0, 0, 0, big-endian size). */
function demux(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length;) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts);
}

const suffixes: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A Kubernetes quantity ("500m", "64Mi", "1", "67108864") as a number (cores or bytes). */
export function parseQuantity(text: string): number {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(text);
  if (!match) throw new Error(`unsupported quantity ${text}`);
  const factor = match[2] === '' ? 1 : suffixes[match[2] ?? ''];
  if (factor === undefined) throw new Error(`unsupported quantity suffix in ${text}`);
  return Number(match[1]) * factor;
}
