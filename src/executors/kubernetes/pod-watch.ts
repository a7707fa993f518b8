import { setTimeout as sleep } from 'node:timers/promises';
import { type CoreV1Api, type KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import { isNotFound, PodFailedError } from './errors.js';

export interface WatchPodOptions<T> {
  kubeConfig: KubeConfig;
  api: CoreV1Api;
  namespace: string;
  name: string;
  /** Called with every version of the pod: a value ends the watch with it; throwing ends it with the error. */
  decide: (pod: V1Pod) => T | undefined;
  /** Ends the watch, rejecting with the signal's reason. */
  signal: AbortSignal;
}

// A watch is closed by the server now and then (and by us after this long); we then read the pod and watch again.
const WATCH_TIMEOUT_SEC = 300;
const RECONNECT_DELAY_MS = 250;

/**
 * Follows one pod through the API server's watch (no polling) until `decide` returns a value: reads the pod, hands
 * it to `decide`, then watches from its resourceVersion, and after any disconnect (server timeout, 410 Gone,
 * network) reads it again and resumes. A pod deleted under us ends the watch with PodFailedError.
 */
export async function watchPodUntil<T>(options: WatchPodOptions<T>): Promise<T> {
  const { api, namespace, name, signal } = options;
  const watch = new Watch(options.kubeConfig);
  for (;;) {
    signal.throwIfAborted();
    let pod: V1Pod;
    try {
      pod = await api.readNamespacedPod({ name, namespace });
    } catch (error) {
      if (isNotFound(error)) throw new PodFailedError(name, 'deleted by someone else while it ran');
      // Transient (API server restarting, network): try again, as the watch would.
      await sleep(RECONNECT_DELAY_MS * 4, undefined, { signal });
      continue;
    }
    const early = options.decide(pod);
    if (early !== undefined) return early;
    const result = await watchOnce(watch, options, pod.metadata?.resourceVersion);
    if (result.done) return result.value;
    await sleep(RECONNECT_DELAY_MS, undefined, { signal });
  }
}

function watchOnce<T>(
  watch: Watch,
  options: WatchPodOptions<T>,
  resourceVersion: string | undefined,
): Promise<{ done: true; value: T } | { done: false }> {
  const { namespace, name, signal } = options;
  return new Promise((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      finish();
    };
    const onAbort = (): void => settle(() => reject(asError(signal.reason)));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const onEvent = (type: string, object: unknown): void => {
      if (settled) return;
      if (type === 'DELETED') {
        settle(() => reject(new PodFailedError(name, 'deleted by someone else while it ran')));
        return;
      }
      if (type !== 'ADDED' && type !== 'MODIFIED') return; // BOOKMARK; ERROR (410 Gone) ends the stream
      try {
        const value = options.decide(object as V1Pod);
        if (value !== undefined) settle(() => resolve({ done: true, value }));
      } catch (error) {
        settle(() => reject(asError(error)));
      }
    };
    watch
      .watch(
        `/api/v1/namespaces/${namespace}/pods`,
        {
          fieldSelector: `metadata.name=${name}`,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: WATCH_TIMEOUT_SEC,
        },
        onEvent,
        () => settle(() => resolve({ done: false })),
      )
      .then(
        (started) => {
          controller = started;
          if (settled) started.abort();
        },
        () => settle(() => resolve({ done: false })),
      );
  });
}

/** Keeps an Error as it is (callers tell their own abort reasons apart by class). */
function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
