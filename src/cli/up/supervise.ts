import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../observability/logger.js';
import { describeExit, type ProcessExit } from '../../services/spawn-logged.js';
import { CliError } from '../errors.js';
import { writeProgress } from '../output/write.js';

/** One run of a supervised service. */
export interface ServiceRun {
  pid: number;
  /** Resolves when this run's process is gone. */
  exited: Promise<ProcessExit>;
  stop(): Promise<void>;
}

export interface RestartPolicy {
  /** More deaths than this within `windowMs` and `up` gives up: a service that keeps dying needs a person. */
  maxRestarts: number;
  windowMs: number;
  /** Wait before the first restart, doubled for each further one in the window. */
  firstBackoffMs: number;
}

/** 3 restarts in 5 min rides out a one-off crash or OOM kill, yet a broken service is reported within seconds. */
const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 3, windowMs: 5 * 60_000, firstBackoffMs: 1_000 };

export interface Supervision {
  /** Resolves only when the service died more often than the policy allows; never after `stop`. */
  gaveUp: Promise<CliError>;
  /** Stops the current run and any further restart. */
  stop: () => Promise<void>;
}

/**
 * Restarts `name` with `start` each time its process dies while `up` runs, logging each death with its exit
 * code or signal. Beyond `policy`, stops restarting and reports through `gaveUp`.
 */
export function supervise(
  name: string,
  logFile: string,
  first: ServiceRun,
  start: () => Promise<ServiceRun>,
  logger: Logger,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): Supervision {
  let current = first;
  const stopping = new AbortController();
  const deaths: number[] = [];

  const watch = async (): Promise<CliError | null> => {
    for (;;) {
      const exit = await Promise.race([current.exited, aborted(stopping.signal)]);
      if (exit === 'stopped' || stopping.signal.aborted) return null;
      const now = Date.now();
      deaths.push(now);
      const recent = deaths.filter((at) => now - at < policy.windowMs).length;
      const how = describeExit(exit);
      logger.error(`${name} (pid ${current.pid}) ${how}`, { code: exit.code, signal: exit.signal, logFile });
      if (recent > policy.maxRestarts) {
        return new CliError(
          `${name} died ${recent} times within ${policy.windowMs / 60_000} min (last: ${how}); stopping everything. ` +
            `Its log: ${logFile}`,
        );
      }
      const backoffMs = policy.firstBackoffMs * 2 ** (recent - 1);
      writeProgress(
        `${name} ${how}; restarting it in ${backoffMs / 1000} s (restart ${recent} of ${policy.maxRestarts})`,
      );
      await sleep(backoffMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (stopping.signal.aborted) return null;
      try {
        current = await start();
        writeProgress(`  ${name} restarted (pid ${current.pid})`);
      } catch (error) {
        // A failed restart is one more death: the next pass counts it and backs off or gives up.
        logger.error(`restarting ${name} failed`, { error, logFile });
        current = {
          pid: current.pid,
          exited: Promise.resolve({ code: null, signal: null, error: asError(error) }),
          stop: () => Promise.resolve(),
        };
      }
    }
  };

  const watching = watch();
  return {
    gaveUp: watching.then((outcome) => outcome ?? new Promise<never>(() => undefined)),
    stop: async () => {
      stopping.abort();
      await watching;
      await current.stop();
    },
  };
}

function aborted(signal: AbortSignal): Promise<'stopped'> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
