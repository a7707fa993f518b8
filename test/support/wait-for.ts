import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** What is awaited, for the timeout error: "run of wf-123 completed". */
  description: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 100 ms. */
  intervalMs?: number;
}

type Falsy = undefined | null | false;

/** Thrown when a condition a test waits for does not come true in time. */
export class WaitForTimeoutError extends Error {
  constructor(description: string, timeoutMs: number, lastError: unknown) {
    const reason = lastError instanceof Error ? `; last attempt threw: ${lastError.message}` : '';
    super(`Timed out after ${timeoutMs} ms waiting for ${description}${reason}`, { cause: lastError });
    this.name = 'WaitForTimeoutError';
  }
}

/**
 * Polls `condition` until it returns a value other than undefined/null/false, and returns that value.
 * For tests only, where the thing awaited happens in another process (a worker, the broker, the database) and
 * offers no event to await. A throwing condition counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(condition: () => T | Falsy | Promise<T | Falsy>, options: WaitForOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) throw new WaitForTimeoutError(options.description, timeoutMs, lastError);
    await sleep(options.intervalMs ?? 100);
  }
}
