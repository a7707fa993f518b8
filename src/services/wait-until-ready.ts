import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceStartError } from './service-start-error.js';
import { describeExit, type ProcessExit } from './spawn-logged.js';

export interface WaitUntilReadyOptions {
  /** Names the service in errors, e.g. "mosquitto on 127.0.0.1:1883". */
  what: string;
  /** Resolves true once the service really answers. Throwing counts as "not yet". */
  probe: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
  /** Appended (tail) to the error on timeout or early exit. */
  logFile?: string;
  /** Stops waiting as soon as the process dies: no point polling a corpse until the timeout. */
  exited?: Promise<ProcessExit>;
}

/** Polls `probe` until it answers true; throws a ServiceStartError with the log tail otherwise. */
export async function waitUntilReady(options: WaitUntilReadyOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exit: ProcessExit | undefined;
  void options.exited?.then((value) => (exit = value));
  let lastError: unknown;
  for (;;) {
    try {
      // An answer counts only while our process lives: otherwise something else answered in its place.
      if ((await options.probe()) && exit === undefined) return;
    } catch (error) {
      lastError = error;
    }
    if (exit !== undefined) {
      const how = exit.error === undefined ? `${describeExit(exit)} before answering` : describeExit(exit);
      throw await ServiceStartError.withLog(`${options.what} ${how}`, options.logFile, exit.error);
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last probe error: ${lastError.message})` : '';
      throw await ServiceStartError.withLog(
        `${options.what} did not answer within ${options.timeoutMs} ms${reason}`,
        options.logFile,
        lastError,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
