import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { ownedSecret, type GraderPodSpec } from './grader-pod.js';
import { ignoreNotFound, isConflict, isNotFound } from './errors.js';
import { ANNOTATIONS, runSelector } from './run-names.js';

/** The pod a run waits on: created now, or adopted from an earlier attempt of the same run. */
export interface RunPod {
  pod: V1Pod;
  adopted: boolean;
  /** Pods of earlier attempts that did not match this one and were deleted. */
  removed: string[];
}

// A leftover deleted with grace 0 is gone at once; one a kubelet is still stopping gets this long.
const GONE_TIMEOUT_MS = 30_000;

/**
 * Finds the pods an earlier attempt of this run left (by label), adopts the one made from the same spec unless it is
 * being deleted, deletes the others with their Secrets, and creates pod and Secret when nothing was adopted. The pod
 * comes first and the Secret after it, owned by it; the kubelet waits for the Secret to mount it.
 */
export async function createOrAdoptPod(api: CoreV1Api, spec: GraderPodSpec, runId: string): Promise<RunPod> {
  const namespace = spec.pod.metadata?.namespace ?? '';
  const leftovers = await api.listNamespacedPod({ namespace, labelSelector: runSelector(runId) });
  let adopt: V1Pod | undefined;
  const removed: string[] = [];
  for (const old of leftovers.items) {
    const sameSpec = old.metadata?.annotations?.[ANNOTATIONS.specHash] === spec.specHash;
    if (sameSpec && old.metadata?.name === spec.pod.metadata?.name && !old.metadata?.deletionTimestamp) {
      adopt = old;
    } else {
      await deletePodAndSecret(api, old);
      removed.push(old.metadata?.name ?? '');
    }
  }
  await Promise.all(removed.map((name) => waitUntilGone(api, namespace, name)));
  if (adopt !== undefined) {
    await createSecret(api, spec, adopt, 'keep');
    return { pod: adopt, adopted: true, removed };
  }
  let pod: V1Pod;
  try {
    pod = await api.createNamespacedPod({ namespace, body: spec.pod });
  } catch (error) {
    // Another attempt of the same run created it between our list and create: adopt that one.
    if (!isConflict(error)) throw error;
    pod = await api.readNamespacedPod({ namespace, name: spec.pod.metadata?.name ?? '' });
    await createSecret(api, spec, pod, 'keep');
    return { pod, adopted: true, removed };
  }
  await createSecret(api, spec, pod, 'replace');
  return { pod, adopted: false, removed };
}

/**
 * Deletes the pod (grace 0: a grader has nothing to save) and its Secret; either may be gone already. A pod read
 * from the API carries its uid, and only that pod is deleted (precondition), never a newer one of the same name.
 */
export async function deletePodAndSecret(api: CoreV1Api, pod: V1Pod): Promise<void> {
  const namespace = pod.metadata?.namespace ?? '';
  const uid = pod.metadata?.uid;
  const secrets = (pod.spec?.volumes ?? []).flatMap((volume) => volume.secret?.secretName ?? []);
  try {
    await api.deleteNamespacedPod({
      namespace,
      name: pod.metadata?.name ?? '',
      gracePeriodSeconds: 0,
      ...(uid === undefined ? {} : { body: { preconditions: { uid } } }),
    });
  } catch (error) {
    if (isNotFound(error)) {
      // gone already
    } else if (isConflict(error)) {
      return; // the name now belongs to a newer pod, and so does the Secret
    } else {
      throw error;
    }
  }
  for (const name of secrets) await ignoreNotFound(api.deleteNamespacedSecret({ namespace, name }));
}

/**
 * Creates the run's Secret owned by `owner`. An existing one is kept for an adopted pod (the attempt that made the
 * pod made it from the same spec) and replaced for a new pod (left by a pod that is gone). Replacing rather than
 * reading it keeps the executor unable to read Secrets.
 */
async function createSecret(
  api: CoreV1Api,
  spec: GraderPodSpec,
  owner: V1Pod,
  existing: 'keep' | 'replace',
): Promise<void> {
  const namespace = spec.secret.metadata?.namespace ?? '';
  const body = ownedSecret(spec.secret, owner);
  try {
    await api.createNamespacedSecret({ namespace, body });
  } catch (error) {
    if (!isConflict(error)) throw error;
    if (existing === 'keep') return;
    await ignoreNotFound(api.deleteNamespacedSecret({ namespace, name: spec.secret.metadata?.name ?? '' }));
    await api.createNamespacedSecret({ namespace, body });
  }
}

async function waitUntilGone(api: CoreV1Api, namespace: string, name: string): Promise<void> {
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      await api.readNamespacedPod({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await sleep(200);
  }
  throw new Error(`leftover pod ${namespace}/${name} still exists ${GONE_TIMEOUT_MS} ms after its deletion`);
}
