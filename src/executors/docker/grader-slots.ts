/**
 * The node's grader slots: at most `size` graders run at once, however many runs the node holds. A prefetched run
 * prepares its container while the slots are busy and waits here; the moment a grader ends, the next waiter (first
 * come, first served) starts at once, without a round trip through the orchestrator. Hand-written rather than a
 * library semaphore because each waiter must leave the line on its own abort signal (a cancelled activity).
 */
export class GraderSlots {
  private running = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`grader slots must be a positive integer, got ${size}`);
  }

  /** Graders running right now. */
  get inUse(): number {
    return this.running;
  }

  /** Runs waiting for a slot right now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a one-shot release once a slot is this caller's. Rejects with the signal's reason when it aborts
   * first; the caller then holds no slot.
   */
  async enter(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.running < this.size) {
      this.running += 1;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const admit = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(admit);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(signal.reason instanceof Error ? signal.reason : new Error('gave up waiting for a grader slot'));
      };
      this.waiters.push(admit);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    // The slot was handed over by its releaser: `running` already counts this caller.
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.running -= 1;
    };
  }
}
