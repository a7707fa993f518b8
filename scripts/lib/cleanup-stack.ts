/** Stops what was started, newest first, and keeps going when one stop fails so nothing is left running. */
export class CleanupStack {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];

  push(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  async runAll(): Promise<void> {
    for (let entry = this.stops.pop(); entry !== undefined; entry = this.stops.pop()) {
      try {
        await entry.stop();
      } catch (error) {
        process.stderr.write(`[with-services] stopping ${entry.name} failed: ${String(error)}\n`);
      }
    }
  }
}
