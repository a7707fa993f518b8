import type { Logger } from '../observability/logger.js';

/** Told when one stop fails; the stack goes on with the rest. */
export type StopFailureReport = (what: string, error: unknown) => void;

/**
 * What a process has opened, stopped newest first: what started last depends on what started before it.
 * One failing stop is reported and the rest still run, so nothing is left running.
 */
export class CleanupStack {
  private readonly stops: { what: string; stop: () => Promise<void> }[] = [];

  constructor(private readonly report: StopFailureReport) {}

  push(what: string, stop: () => Promise<void>): void {
    this.stops.push({ what, stop });
  }

  /** Stops everything pushed so far; a second call stops only what was pushed since. */
  async runAll(): Promise<void> {
    for (let entry = this.stops.pop(); entry !== undefined; entry = this.stops.pop()) {
      try {
        await entry.stop();
      } catch (error) {
        this.report(entry.what, error);
      }
    }
  }

  /** Runs a start-up; if it throws, stops what it had opened before rethrowing, so a failed start leaks nothing. */
  async unwindOnFailure<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.runAll();
      throw error;
    }
  }
}

/** Reports a failed stop as an error log line. */
export function logStopFailures(logger: Logger): StopFailureReport {
  return (what, error) => logger.error(`stopping ${what} failed`, { error });
}
