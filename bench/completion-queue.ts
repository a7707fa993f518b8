// Runs finish after they start; a policy may only learn a run's duration once it has finished.

interface Finished {
  endMs: number;
  assignmentId: number;
  durationMs: number;
}

/** Min-heap of runs by end time, feeding finished durations into per-assignment histories. */
export class CompletionQueue {
  private readonly heap: Finished[] = [];
  readonly history = new Map<number, number[]>();

  push(entry: Finished): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent]?.endMs ?? 0) <= entry.endMs) break;
      heap[i] = heap[parent] as Finished;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Moves every run that ended at or before `nowMs` into `history`. */
  flush(nowMs: number): void {
    const heap = this.heap;
    while (heap.length > 0 && (heap[0]?.endMs ?? Infinity) <= nowMs) {
      const top = heap[0] as Finished;
      const last = heap.pop() as Finished;
      if (heap.length > 0) this.siftDown(last);
      const durations = this.history.get(top.assignmentId);
      if (durations) durations.push(top.durationMs);
      else this.history.set(top.assignmentId, [top.durationMs]);
    }
  }

  private siftDown(entry: Finished): void {
    const heap = this.heap;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right]?.endMs ?? 0) < (heap[left]?.endMs ?? 0) ? right : left;
      if ((heap[child]?.endMs ?? 0) >= entry.endMs) break;
      heap[i] = heap[child] as Finished;
      i = child;
    }
    heap[i] = entry;
  }
}
