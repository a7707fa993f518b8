import type { CoreV1Api, KubeConfig, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ExecutionControl, GraderLimits } from '../executor.js';
import { ImagePullError, PodFailedError, PodUnschedulableError } from './errors.js';
import { GRADER_CONTAINER } from './grader-pod.js';
import type { ResolvedKubernetesOptions } from './options.js';
import { watchPodUntil } from './pod-watch.js';

/** When the executor saw each step of the pod; the split of a run's turnaround. */
export interface PodTimeline {
  createdAt: Date;
  scheduledAt: Date | null;
  runningAt: Date | null;
  endedAt: Date | null;
  collectedAt: Date | null;
}

/** How waiting ended: the pod finished, or it outlived the grader's timeout plus grace and is to be deleted. */
export type PodEnd = { kind: 'terminated'; pod: V1Pod } | { kind: 'overran'; pod: V1Pod };

export interface WaitForPodInput {
  kubeConfig: KubeConfig;
  api: CoreV1Api;
  pod: V1Pod;
  image: string;
  limits: GraderLimits;
  options: ResolvedKubernetesOptions;
  control: ExecutionControl;
  timeline: PodTimeline;
}

// Reasons a container waits that waiting longer will not cure.
const pullFailures = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);
const startFailures = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

class UnschedulableDeadline extends Error {}
class StartDeadline extends Error {}
class GraderOverran extends Error {}

/**
 * Watches the pod until it Succeeded or Failed, heartbeating meanwhile. Fails with PodUnschedulableError when it
 * is still unbound after `unschedulableTimeoutSec`, ImagePullError on a pull failure, PodFailedError when it cannot
 * start or is not running `startupAllowanceSec` after binding, and with the abort reason on cancellation; reports `overran` when the grader runs past its in-pod
 * timeout plus `timeoutGraceSec`.
 */
export async function waitForPodEnd(input: WaitForPodInput): Promise<PodEnd> {
  const { options, control, timeline } = input;
  const name = input.pod.metadata?.name ?? '';
  const stop = new AbortController();
  let lastPod = input.pod;
  let phase = 'scheduling';
  const setPhase = (next: string): void => {
    phase = next;
    control.heartbeat(phase);
  };
  const heartbeat = setInterval(() => control.heartbeat(phase), options.heartbeatIntervalMs);
  const unschedulable = setTimeout(
    () => stop.abort(new UnschedulableDeadline()),
    options.unschedulableTimeoutSec * 1000 - (Date.now() - timeline.createdAt.getTime()),
  );
  let notStarted: NodeJS.Timeout | undefined;
  let overrun: NodeJS.Timeout | undefined;
  const cancel = (): void => stop.abort(control.abortSignal.reason ?? new Error('grading run cancelled'));
  if (control.abortSignal.aborted) cancel();
  control.abortSignal.addEventListener('abort', cancel, { once: true });
  control.heartbeat(phase);

  const uid = input.pod.metadata?.uid;
  const decide = (pod: V1Pod): PodEnd | undefined => {
    if (pod.metadata?.uid !== uid) throw new PodFailedError(name, 'replaced by a pod of another attempt');
    lastPod = pod;
    if (pod.spec?.nodeName && timeline.scheduledAt === null) {
      timeline.scheduledAt = new Date();
      clearTimeout(unschedulable);
      setPhase(`starting on ${pod.spec.nodeName}`);
      // The kubelet enforces activeDeadlineSeconds; a node that never starts the pod needs our own deadline.
      notStarted = setTimeout(() => stop.abort(new StartDeadline()), options.startupAllowanceSec * 1000);
    }
    const status = graderStatus(pod);
    const waiting = status?.state?.waiting;
    if (waiting?.reason !== undefined && pullFailures.has(waiting.reason)) {
      throw new ImagePullError(input.image, waiting.reason, waiting.message);
    }
    if (waiting?.reason !== undefined && startFailures.has(waiting.reason)) {
      throw new PodFailedError(name, `${waiting.reason}: ${waiting.message ?? ''}`);
    }
    if ((status?.state?.running || status?.state?.terminated) && timeline.runningAt === null) {
      timeline.runningAt = new Date();
      clearTimeout(notStarted);
      setPhase('running');
      const overrunMs = (input.limits.timeoutSec + options.timeoutGraceSec) * 1000;
      overrun = setTimeout(() => stop.abort(new GraderOverran()), overrunMs);
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      timeline.endedAt = new Date();
      return { kind: 'terminated', pod };
    }
    return undefined;
  };

  try {
    return await watchPodUntil({
      kubeConfig: input.kubeConfig,
      api: input.api,
      namespace: options.namespace,
      name,
      decide,
      signal: stop.signal,
    });
  } catch (error) {
    if (error instanceof UnschedulableDeadline) {
      throw new PodUnschedulableError(
        options.region,
        options.zone,
        options.unschedulableTimeoutSec,
        schedulerMessage(lastPod),
      );
    }
    if (error instanceof StartDeadline) {
      throw new PodFailedError(
        name,
        `not started on ${lastPod.spec?.nodeName} within ${options.startupAllowanceSec} s`,
      );
    }
    if (error instanceof GraderOverran) {
      timeline.endedAt = new Date();
      return { kind: 'overran', pod: lastPod };
    }
    throw error;
  } finally {
    clearInterval(heartbeat);
    clearTimeout(unschedulable);
    clearTimeout(notStarted);
    clearTimeout(overrun);
    control.abortSignal.removeEventListener('abort', cancel);
  }
}

export function graderStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((status) => status.name === GRADER_CONTAINER);
}

/** Why the scheduler left the pod unbound, e.g. "0/4 nodes are available: 4 node(s) didn't match …". */
function schedulerMessage(pod: V1Pod): string | undefined {
  const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return condition?.message ?? condition?.reason;
}
