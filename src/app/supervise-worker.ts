import type { CleanupStack } from './cleanup-stack.js';

/** A running component of a process: stop it, or learn that it ended on its own. */
export interface RunningComponent {
  /** Settles when the component ends, on its own or by `stop()`; rejects with what made it fail. */
  ended: Promise<void>;
  /** Stops the component and closes what it opened for itself; safe to call more than once. */
  stop(): Promise<void>;
}

/** What both a Temporal `Worker` and a node worker offer. */
interface Runnable {
  run(): Promise<void>;
  shutdown(): void;
}

/** Runs `worker` until stopped; stopping lets it finish, then closes what `cleanup` holds (its own resources). */
export function superviseWorker(worker: Runnable, cleanup: CleanupStack): RunningComponent {
  const ended = worker.run();
  // Whoever waits on `ended` sees a failure; nobody waiting must not make it an unhandled rejection.
  ended.catch(() => undefined);
  let stopped: Promise<void> | undefined;
  return {
    ended,
    stop() {
      stopped ??= (async () => {
        shutdownWorker(worker);
        await ended.catch(() => undefined);
        await cleanup.runAll();
      })();
      return stopped;
    },
  };
}

/**
 * Asks a worker to finish. Temporal's runtime also shuts workers down on SIGINT/SIGTERM by itself, and a worker
 * may have ended on its own, so it may already be stopping or stopped: that is fine here.
 */
function shutdownWorker(worker: Runnable): void {
  try {
    worker.shutdown();
  } catch (error) {
    if (!(error instanceof Error && error.name === 'IllegalStateError')) throw error;
  }
}
