import os from 'node:os';
import Docker from 'dockerode';
import { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createNodeActivities } from '../activities/node-activities.js';
import { createRegionWake } from '../activities/slot-release.js';
import { ConfigError, type Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { DockerExecutor } from '../executors/docker/docker-executor.js';
import type { AutograderExecutor } from '../executors/executor.js';
import type { KubeConfigSource } from '../executors/kubernetes/kube-config.js';
import { chooseGraderRuntime, GraderRuntimeError } from '../executors/docker/grader-runtime.js';
import type { GraderSandbox } from '../executors/docker/grader-sandbox.js';
import { removeLeftoverContainers } from '../executors/docker/remove-leftover-containers.js';
import type { Logger } from '../observability/logger.js';
import type { ExecutorKind } from '../shared/executor-kind.js';
import { nodeTaskQueue } from '../shared/grading-types.js';
import { detectNodeHardware, type NodeHardware } from './node-info.js';
import { registerNode } from './node-registration.js';
import { redactActivityErrors } from './redact-activity-errors.js';
import { signalSlotFreed } from './signal-slot-freed.js';

export interface NodeWorkerDeps {
  connection: NativeConnection;
  db: Database;
  config: Config;
  logger: Logger;
  docker?: Docker;
  /** What runs the graders: this machine's Docker engine (default), or pods in a Kubernetes region. */
  kind?: NodeKind;
  /** Replaces the default name (`NODE_NAME` or the hostname; `k8s-REGION[.ZONE]` for Kubernetes). */
  nodeName?: string;
  /** Replaces the executor the kind implies; tests use it to inject infrastructure faults. */
  executor?: AutograderExecutor;
  /** Milliseconds between check-ins; a third of the liveness window by default. */
  checkInIntervalMs?: number;
}

export interface RunningNodeWorker {
  nodeName: string;
  worker: Worker;
  /** Runs until shutdown; resolves once the node has left placement. */
  run(): Promise<void>;
  shutdown(): void;
}

export type NodeKind = ExecutorKind;

/** Where placement sends a run and what runs it there. */
interface NodeSetup {
  nodeName: string;
  region: string;
  zone: string;
  hardware: NodeHardware;
  maxConcurrentRuns: number;
  /** Runs taken beyond the slots, their containers prepared while the slots' graders run (Docker only). */
  prefetchRuns: number;
  executor: AutograderExecutor;
}

/**
 * A worker node: a Docker node sweeps its leftovers; either kind registers itself as a placement candidate, then
 * polls its own task queue. A Kubernetes region's worker runs each grader as a pod pinned to its region (and zone).
 */
export async function createNodeWorker(deps: NodeWorkerDeps): Promise<RunningNodeWorker> {
  const { config, db } = deps;
  const kind = deps.kind ?? 'docker';
  const setup = kind === 'kubernetes' ? await kubernetesSetup(deps) : await dockerSetup(deps);
  const { nodeName, hardware, maxConcurrentRuns, prefetchRuns, executor } = setup;
  const log = deps.logger.child({ node: nodeName });
  const taskQueue = nodeTaskQueue(nodeName);
  // Signals go out on the worker's own connection: a node opens no second one to the server.
  const temporal = new Client({ connection: deps.connection, namespace: config.TEMPORAL_NAMESPACE });
  const wakeRegion = createRegionWake(db, config, signalSlotFreed(temporal));
  const worker = await Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    activities: createNodeActivities(db, executor, config),
    // One task per claim (slots + prefetch): a run that claimed this node is picked up at once, never left in the
    // queue; the executor's own grader slots keep the graders running at once to maxConcurrentRuns.
    maxConcurrentActivityTaskExecutions: maxConcurrentRuns + prefetchRuns,
    interceptors: { activity: [redactActivityErrors] },
  });
  const registration = await registerNode(
    db,
    { name: nodeName, kind, taskQueue, region: setup.region, zone: setup.zone, maxConcurrentRuns, prefetchRuns },
    hardware,
    {
      checkInIntervalMs: deps.checkInIntervalMs ?? (config.NODE_LIVENESS_SEC * 1000) / 3,
      livenessMs: config.NODE_LIVENESS_SEC * 1000,
      logger: log,
      onLive: async () => {
        const woken = await wakeRegion(setup.region);
        if (woken.length > 0) log.info('woke runs queued in the node region', { runs: woken.length });
      },
    },
  );
  log.info('node worker registered', { kind, taskQueue, maxConcurrentRuns, prefetchRuns, ...hardware });
  return {
    nodeName,
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await registration.stop();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}

async function dockerSetup(deps: NodeWorkerDeps): Promise<NodeSetup> {
  const { config } = deps;
  const nodeName = deps.nodeName ?? (config.NODE_NAME || os.hostname());
  const docker = deps.docker ?? new Docker();
  await docker.ping();
  const swept = await removeLeftoverContainers(docker, nodeName);
  if (swept.length > 0) {
    deps.logger.child({ node: nodeName }).warn('removed containers left by an earlier crash', { containers: swept });
  }
  const hardware = detectNodeHardware();
  const maxConcurrentRuns = config.NODE_MAX_CONCURRENT_RUNS || hardware.cores;
  // An injected executor (tests) has no grader slots of its own: it gets no prefetched runs to hold back.
  const prefetchRuns = deps.executor
    ? 0
    : config.NODE_PREFETCH_RUNS === -1
      ? maxConcurrentRuns
      : config.NODE_PREFETCH_RUNS;
  const sandbox: GraderSandbox = {
    diskLimitBytes: config.GRADER_DISK_LIMIT_BYTES,
    nofileLimit: config.GRADER_NOFILE_LIMIT,
  };
  // An injected executor runs no containers of ours: no runtime to choose, no probe container to start.
  if (!deps.executor) sandbox.runtime = await graderRuntime(docker, config.GRADER_RUNTIME, sandbox, deps.logger);
  return {
    nodeName,
    region: config.NODE_REGION,
    zone: config.NODE_ZONE,
    hardware,
    maxConcurrentRuns,
    prefetchRuns,
    executor:
      deps.executor ??
      new DockerExecutor(docker, {
        nodeName,
        baseImage: config.AUTOGRADER_BASE_IMAGE,
        buildNetworkMode: config.IMAGE_BUILD_NETWORK,
        buildTimeoutSec: config.IMAGE_BUILD_TIMEOUT_SEC,
        buildLimits: {
          memoryBytes: config.IMAGE_BUILD_MEMORY_BYTES,
          nanoCpus: config.IMAGE_BUILD_NANO_CPUS,
          pidsLimit: config.IMAGE_BUILD_PIDS_LIMIT,
        },
        sandbox,
        graderSlots: maxConcurrentRuns,
      }),
  };
}

/** GRADER_RUNTIME resolved against the engine, logged; a runtime named but unusable stops the node's start. */
async function graderRuntime(docker: Docker, wanted: string, sandbox: GraderSandbox, logger: Logger): Promise<string> {
  try {
    const choice = await chooseGraderRuntime(docker, wanted, sandbox);
    const fields = { runtime: choice.runtime, GRADER_RUNTIME: wanted, reason: choice.reason };
    if (choice.fellBack) logger.warn('grader containers run under the engine default runtime', fields);
    else logger.info('grader containers run under runtime', fields);
    return choice.runtime;
  } catch (error) {
    throw error instanceof GraderRuntimeError ? new ConfigError(error.message) : error;
  }
}

/**
 * A Kubernetes region as one candidate, named `k8s-REGION[.ZONE]`. Its row describes the region, not a machine:
 * cpu model `kubernetes`, cores = capacity (`K8S_MAX_CONCURRENT_RUNS`), clock 0, one socket, memory = capacity ×
 * the grader's memory limit, no IP or cache. A retry adopts or removes what an earlier attempt left, so there is
 * nothing to sweep at start. It does not start unless its grader pods are behind the deny-all NetworkPolicy.
 */
async function kubernetesSetup(deps: NodeWorkerDeps): Promise<NodeSetup> {
  const { config } = deps;
  const region = config.K8S_REGION;
  if (!region) throw new ConfigError('a Kubernetes worker needs K8S_REGION (--k8s-region REGION)');
  const zone = config.K8S_ZONE || undefined;
  const capacity = config.K8S_MAX_CONCURRENT_RUNS;
  if (capacity < 1) throw new ConfigError('K8S_MAX_CONCURRENT_RUNS must be at least 1');
  // Loaded here, not at the top: the Kubernetes client takes over a second of CPU to load, which every Docker
  // node, `up` and the CLI would pay at start for nothing.
  const [{ KubernetesExecutor }, { loadKubeConfig }, { ensureGraderNetworkPolicy, GRADER_NETWORK_POLICY }, options] =
    await Promise.all([
      import('../executors/kubernetes/kubernetes-executor.js'),
      import('../executors/kubernetes/kube-config.js'),
      import('../executors/kubernetes/network-policy.js'),
      import('../executors/kubernetes/options.js'),
    ]);
  const kubeConfig = loadKubeConfig(kubeConfigSource(config));
  const policy = await ensureGraderNetworkPolicy(kubeConfig, config.K8S_NAMESPACE);
  deps.logger.info('grader network policy', { namespace: config.K8S_NAMESPACE, name: GRADER_NETWORK_POLICY, policy });
  return {
    nodeName: deps.nodeName ?? kubernetesNodeName(region, zone),
    region,
    zone: zone ?? '',
    hardware: {
      ip: null,
      cpuModel: 'kubernetes',
      clockMhz: 0,
      sockets: 1,
      cores: capacity,
      cacheBytes: null,
      memoryBytes: capacity * config.GRADER_MEMORY_BYTES,
    },
    maxConcurrentRuns: capacity,
    // Pods wait for the cluster's scheduler, not for a slot here: nothing to prepare ahead.
    prefetchRuns: 0,
    executor:
      deps.executor ??
      new KubernetesExecutor({
        kubeConfig,
        namespace: config.K8S_NAMESPACE,
        imageFor: options.registryImageNamer(config.K8S_IMAGE_REGISTRY),
        region,
        zone,
        labelKeys: { region: config.K8S_REGION_LABEL, zone: config.K8S_ZONE_LABEL },
        unschedulableTimeoutSec: config.K8S_UNSCHEDULABLE_TIMEOUT_SEC,
        diskLimitBytes: config.GRADER_DISK_LIMIT_BYTES,
        readOnlyRootFilesystem: config.K8S_GRADER_READ_ONLY_ROOT,
        ...(config.K8S_TRAILER_KEY === undefined ? {} : { trailerKey: Buffer.from(config.K8S_TRAILER_KEY) }),
      }),
  };
}

/** The candidate name of a Kubernetes region (and zone). */
export function kubernetesNodeName(region: string, zone?: string): string {
  return zone ? `k8s-${region}.${zone}` : `k8s-${region}`;
}

/** A kubeconfig file, else inline YAML, else the pod's own ServiceAccount. */
function kubeConfigSource(config: Config): KubeConfigSource {
  if (config.KUBECONFIG_PATH) return { kind: 'file', path: config.KUBECONFIG_PATH };
  if (config.KUBECONFIG_INLINE) return { kind: 'inline', yaml: config.KUBECONFIG_INLINE };
  return { kind: 'in-cluster' };
}
