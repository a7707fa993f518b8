import { CoreV1Api } from '@kubernetes/client-node';
import type { AutograderExecutor, AutograderJob, ExecutionControl } from '../executor.js';
import { collectExecution, type KubernetesExecution } from './collect-execution.js';
import { buildGraderPod } from './grader-pod.js';
import { resolveOptions, type KubernetesExecutorOptions, type ResolvedKubernetesOptions } from './options.js';
import { createOrAdoptPod, deletePodAndSecret, type RunPod } from './pod-lifecycle.js';
import { packSubmission } from './submission-payload.js';
import { waitForPodEnd, type PodTimeline } from './wait-for-pod.js';

/**
 * Runs graders as pods on a Kubernetes cluster, one pod per run, pinned to the chosen region (and zone). The
 * submission reaches the pod in a Secret; the results come back in the pod's log. The pod and its Secret are
 * always deleted, also on failure and cancellation; a retry of the same run adopts or removes what an earlier
 * attempt left. Images are not built here: `imageFor` names one already in the cluster's registry.
 */
export class KubernetesExecutor implements AutograderExecutor {
  readonly kind = 'kubernetes' as const;
  private readonly options: ResolvedKubernetesOptions;
  private readonly api: CoreV1Api;

  constructor(options: KubernetesExecutorOptions) {
    this.options = resolveOptions(options);
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  async run(job: AutograderJob, control: ExecutionControl): Promise<KubernetesExecution> {
    control.heartbeat('creating pod');
    const spec = buildGraderPod(job, await packSubmission(job), this.options);
    control.abortSignal.throwIfAborted();
    let created: RunPod | undefined;
    try {
      created = await createOrAdoptPod(this.api, spec, job.runId);
      const timeline: PodTimeline = {
        createdAt: new Date(),
        scheduledAt: null,
        runningAt: null,
        endedAt: null,
        collectedAt: null,
      };
      const end = await waitForPodEnd({
        kubeConfig: this.options.kubeConfig,
        api: this.api,
        pod: created.pod,
        image: spec.image,
        limits: job.limits,
        options: this.options,
        control,
        timeline,
      });
      control.heartbeat('collecting results');
      const collected = await collectExecution(this.api, end, job.limits, this.options, job.runId);
      timeline.collectedAt = new Date();
      return {
        ...collected,
        imageTag: spec.image,
        imageBuildMs: 0, // built and pushed before placement, not per run
        imageReadyAt: timeline.runningAt ?? timeline.endedAt ?? new Date(),
        pod: {
          namespace: this.options.namespace,
          name: created.pod.metadata?.name ?? '',
          uid: created.pod.metadata?.uid ?? '',
          adopted: created.adopted,
          timeline,
        },
      };
    } finally {
      // Retried once, as the Docker executor does: a pod must not outlive its run. A retry of the run removes
      // anything still left (labels find it); where a garbage collector runs, the Secret goes with its pod.
      // Our pod by uid once we have it; by name when creating it failed half-way.
      const pod = created?.pod ?? spec.pod;
      await deletePodAndSecret(this.api, pod).catch(() => deletePodAndSecret(this.api, pod).catch(() => undefined));
    }
  }
}
