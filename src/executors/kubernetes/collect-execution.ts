import type { CoreV1Api } from '@kubernetes/client-node';
import type { AutograderExecution, ExecutionPlacement, GraderLimits } from '../executor.js';
import { isForbidden, PodFailedError } from './errors.js';
import { GRADER_CONTAINER } from './grader-pod.js';
import { maxLogBytes, parseGraderLog } from './grader-wrapper.js';
import { trailerNonce, type ResolvedKubernetesOptions } from './options.js';
import { graderStatus, type PodEnd, type PodTimeline } from './wait-for-pod.js';

/** Where the pod actually ran. */
interface PodPlacement extends ExecutionPlacement {
  /** `node`: read from the node's labels; `requested`: the executor may not read nodes, so the required affinity. */
  labelsFrom: 'node' | 'requested';
}

/** A Kubernetes run: the common execution plus where it ran and how the pod went. */
export interface KubernetesExecution extends AutograderExecution {
  placement: PodPlacement;
  pod: { namespace: string; name: string; uid: string; adopted: boolean; timeline: PodTimeline };
}

/**
 * Turns an ended pod into an execution: reads its log through `pods/log` (the only route results take), splits off
 * the wrapper's trailer, and decides the outcome as the Docker executor does: timeout, else out-of-memory, else
 * completed. Infrastructure endings (eviction, never started, input not unpacked) throw PodFailedError.
 */
export async function collectExecution(
  api: CoreV1Api,
  end: PodEnd,
  limits: GraderLimits,
  options: ResolvedKubernetesOptions,
  runId: string,
): Promise<Omit<KubernetesExecution, 'pod' | 'imageTag' | 'imageBuildMs' | 'imageReadyAt'>> {
  const { pod } = end;
  const name = pod.metadata?.name ?? '';
  const podReason = pod.status?.reason;
  const terminated = graderStatus(pod)?.state?.terminated;
  const deadlineExceeded = podReason === 'DeadlineExceeded';
  if (end.kind === 'terminated' && terminated === undefined && !deadlineExceeded) {
    throw new PodFailedError(
      name,
      `${podReason ?? pod.status?.phase ?? 'ended'}: ${pod.status?.message ?? 'grader never ran'}`,
    );
  }
  if (deadlineExceeded && terminated?.startedAt === undefined && graderStatus(pod)?.state?.running === undefined) {
    throw new PodFailedError(name, 'did not start within activeDeadlineSeconds');
  }
  const log = await readLog(api, options.namespace, name, maxLogBytes(limits));
  const { output, outputTruncated, trailer } = parseGraderLog(log, limits, trailerNonce(options, runId));
  if (trailer?.stage === 'input') throw new PodFailedError(name, `could not unpack the submission: ${trailer.error}`);
  const timedOut = end.kind === 'overran' || deadlineExceeded || trailer?.timedOut === true;
  const oomKilled = terminated?.reason === 'OOMKilled';
  return {
    outcome: timedOut ? 'timeout' : oomKilled ? 'out-of-memory' : 'completed',
    exitCode: timedOut ? null : (trailer?.exitCode ?? terminated?.exitCode ?? null),
    startedAt: trailer?.startedAt ?? terminated?.startedAt ?? null,
    finishedAt: trailer?.finishedAt ?? terminated?.finishedAt ?? null,
    cpuTimeMs: trailer?.cpuTimeMs ?? null,
    output,
    outputTruncated,
    resultsJson: trailer?.resultsJson ?? null,
    resultsTruncated: trailer?.resultsTruncated ?? false,
    ...(trailer?.resultsRefusal == null ? {} : { resultsRefusal: trailer.resultsRefusal }),
    placement: await readPlacement(api, pod.spec?.nodeName ?? '', options),
  };
}

async function readLog(api: CoreV1Api, namespace: string, name: string, limitBytes: number): Promise<string> {
  const log = await api.readNamespacedPodLog({ namespace, name, container: GRADER_CONTAINER, limitBytes });
  return typeof log === 'string' ? log : '';
}

/** The node's region and zone labels; the requested ones when the executor's identity may not read nodes. */
async function readPlacement(api: CoreV1Api, node: string, options: ResolvedKubernetesOptions): Promise<PodPlacement> {
  try {
    const labels = (await api.readNode({ name: node })).metadata?.labels ?? {};
    return {
      node,
      region: labels[options.labelKeys.region] ?? null,
      zone: labels[options.labelKeys.zone] ?? null,
      labelsFrom: 'node',
    };
  } catch (error) {
    if (!isForbidden(error)) throw error;
    return { node, region: options.region, zone: options.zone ?? null, labelsFrom: 'requested' };
  }
}
