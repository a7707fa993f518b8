// The nodes' slot queues in the replay. In the product a run whose start has come claims a slot on its planned
// node or waits in its queue (src/db/slot-claims.ts); from shortly before its deadline a waiting run spills to a
// free slot on another candidate its policy may use (src/shared/slot-spill.ts). This replays that after the fact,
// with true run times: per candidate, runs take its `capacity` slots in the order they queued. Pure.

export interface QueuedRun {
  candidateId: string;
  plannedStartMs: number;
  /** True run time (the booking holds the estimate; the slot is held for the real run). */
  durationMs: number;
  /** When it joins the queue: its planned start, or its planning time when it waits only for room. */
  queuedAtMs?: number;
  /** From this instant a waiting run takes a free slot on one of `spillTo` (in order) instead. */
  spillAtMs?: number;
  /** Candidates it may spill to, in order; none: it waits for its own. */
  spillTo?: readonly string[];
}

export interface QueuedStart {
  startMs: number;
  candidateId: string;
}

/** A min-heap of slot releases: (instant, candidate). */
class Releases {
  private readonly heap: Array<{ atMs: number; candidateId: string }> = [];
  get size() {
    return this.heap.length;
  }
  peek() {
    return this.heap[0]?.atMs ?? Infinity;
  }
  push(atMs: number, candidateId: string) {
    const heap = this.heap;
    heap.push({ atMs, candidateId });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.atMs <= heap[i]!.atMs) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }
  pop(): string {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let least = i;
        if (l < heap.length && heap[l]!.atMs < heap[least]!.atMs) least = l;
        if (r < heap.length && heap[r]!.atMs < heap[least]!.atMs) least = r;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i]!, heap[least]!];
        i = least;
      }
    }
    return top.candidateId;
  }
}

/**
 * Where and when each run really starts (same order as `runs`): on its candidate when a slot is free from the
 * time it queues, in queue order (ties in booking order); or, waiting at or past its spill time, on the first
 * candidate of its spill order with a free slot and nobody waiting there. `capacityOf` returns undefined for an
 * unlimited candidate (never waits).
 */
export function queuedStarts(
  runs: readonly QueuedRun[],
  capacityOf: (candidateId: string) => number | undefined,
): QueuedStart[] {
  const queuedAt = (run: QueuedRun) => run.queuedAtMs ?? run.plannedStartMs;
  const starts: Array<QueuedStart | null> = runs.map(() => null);
  const arrivals = runs.map((_, index) => index);
  arrivals.sort((a, b) => queuedAt(runs[a]!) - queuedAt(runs[b]!) || a - b);
  const spills = arrivals.filter((i) => runs[i]!.spillTo?.length && runs[i]!.spillAtMs !== undefined);
  spills.sort(
    (a, b) =>
      Math.max(queuedAt(runs[a]!), runs[a]!.spillAtMs!) - Math.max(queuedAt(runs[b]!), runs[b]!.spillAtMs!) || a - b,
  );

  const free = new Map<string, number>();
  const freeOn = (id: string) => {
    let slots = free.get(id);
    if (slots === undefined) {
      const capacity = capacityOf(id);
      if (capacity !== undefined && !(capacity >= 1))
        throw new RangeError(`candidate ${id} has no slot (capacity ${capacity})`);
      free.set(id, (slots = capacity ?? Infinity));
    }
    return slots;
  };
  const queues = new Map<string, number[]>();
  const waiting = new Map<string, number>();
  /** Runs past their spill time still waiting, in queue order. */
  const spilling: number[] = [];
  const releases = new Releases();

  const start = (index: number, candidateId: string, atMs: number) => {
    starts[index] = { startMs: atMs, candidateId };
    free.set(candidateId, freeOn(candidateId) - 1);
    releases.push(atMs + runs[index]!.durationMs, candidateId);
  };
  const roomFor = (id: string) => freeOn(id) > 0 && (waiting.get(id) ?? 0) === 0;
  /** Serves the candidate's queue, then lends its remaining free slots to spilling runs that may use it. */
  const serve = (id: string, atMs: number) => {
    const queue = queues.get(id) ?? [];
    while (freeOn(id) > 0 && queue.length > 0) {
      const next = queue.shift()!;
      if (starts[next] !== null) continue;
      waiting.set(id, (waiting.get(id) ?? 1) - 1);
      start(next, id, atMs);
    }
    for (let i = 0; i < spilling.length && freeOn(id) > 0 && (waiting.get(id) ?? 0) === 0;) {
      const index = spilling[i]!;
      if (starts[index] !== null) spilling.splice(i, 1);
      else if (runs[index]!.spillTo!.includes(id)) {
        spilling.splice(i, 1);
        leave(index);
        start(index, id, atMs);
      } else i += 1;
    }
  };
  const leave = (index: number) => {
    const own = runs[index]!.candidateId;
    waiting.set(own, (waiting.get(own) ?? 1) - 1);
  };

  let nextArrival = 0;
  let nextSpill = 0;
  for (;;) {
    const arrivalMs = nextArrival < arrivals.length ? queuedAt(runs[arrivals[nextArrival]!]!) : Infinity;
    const spill = spills[nextSpill];
    const spillMs = spill === undefined ? Infinity : Math.max(queuedAt(runs[spill]!), runs[spill]!.spillAtMs!);
    const atMs = Math.min(releases.peek(), arrivalMs, spillMs);
    if (atMs === Infinity) break;
    // Half-open runs: slots that free at this instant serve runs queuing at it.
    if (releases.peek() === atMs) {
      const freed = new Set<string>();
      while (releases.size > 0 && releases.peek() === atMs) {
        const id = releases.pop();
        free.set(id, freeOn(id) + 1);
        freed.add(id);
      }
      for (const id of freed) serve(id, atMs);
    } else if (arrivalMs === atMs) {
      const index = arrivals[nextArrival++]!;
      const id = runs[index]!.candidateId;
      if (!queues.has(id)) queues.set(id, []);
      queues.get(id)!.push(index);
      waiting.set(id, (waiting.get(id) ?? 0) + 1);
      serve(id, atMs);
    } else {
      const index = spills[nextSpill++]!;
      if (starts[index] !== null) continue;
      const target = runs[index]!.spillTo!.find(roomFor);
      if (target === undefined) spilling.push(index);
      else {
        leave(index);
        start(index, target, atMs);
      }
    }
  }
  return starts.map((started, index) => {
    if (started === null) throw new Error(`run ${index} never started in the slot-queue replay`);
    return started;
  });
}
