import type { ExecutionControl } from '../executor.js';

const BEAT_MS = 500;

/**
 * Heartbeats a run's current phase on a timer, so that noticing a live run costs no engine call. A phase may be
 * given a time limit: past it the beats stop, and Temporal's heartbeat timeout reports a run the engine no longer
 * moves (a kill it never carried out) instead of it heartbeating forever.
 */
export class PhaseHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly control: ExecutionControl) {}

  phase(name: string, limitMs = Number.POSITIVE_INFINITY): void {
    this.stop();
    const until = Date.now() + limitMs;
    this.control.heartbeat(name);
    this.timer = setInterval(() => {
      if (Date.now() < until) this.control.heartbeat(name);
    }, BEAT_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
