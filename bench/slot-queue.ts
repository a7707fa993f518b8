// The nodes' slot queues in the replay. In the product a run whose start has come claims a slot on its planned
// node or waits in its queue (src/db/slot-claims.ts); from shortly before its deadline a waiting run spills to a
// free slot on another candidate its policy may use (src/shared/slot-spill.ts). This replays that after the fact,
// with true run times: per candidate, runs take its `capacity` slots in the queue's order (earliest deadline
// first, as the product serves a lane, or another `QueueOrder` to compare). Pure.
import { compareWithinLane, pastSpillTime } from '../src/shared/deadline-first.js';
import { MinHeap } from './min-heap.js';

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
  /** When it must start by; undefined: never (it only waits its turn). Orders the queue but for `claim`. */
  deadlineMs?: number;
}

export interface QueuedStart {
  startMs: number;
  candidateId: string;
}

/**
 * Which waiting run of a candidate takes its next free slot: `claim` (the order they queued in, as before),
 * `deadline-first` (runs at or past their spill time first, earliest deadline first, then the claim order) or `edf`
 * (earliest deadline first throughout; the product's rule within a lane, src/shared/deadline-first.ts).
 */
export type QueueOrder = 'claim' | 'deadline-first' | 'edf';
export const QUEUE_ORDERS: readonly QueueOrder[] = ['claim', 'deadline-first', 'edf'];

/** One candidate's waiting runs (indices into the runs), taken in the queue order; started runs are skipped. */
class CandidateQueue {
  private readonly claimOrder: number[] = [];
  private head = 0;
  /** Runs that may yet come due, by deadline (deadline-first: until their spill time; edf: all). */
  private readonly byDeadline: MinHeap<number>;
  /** Deadline-first: runs not yet at their spill time, by deadline (spill time is deadline − a constant lead). */
  private readonly notYetDue: MinHeap<number>;

  constructor(
    private readonly order: QueueOrder,
    private readonly deadlineOf: (index: number) => number | undefined,
    private readonly isStarted: (index: number) => boolean,
    /** Position in the order runs queued in: breaks ties between equal deadlines. */
    rankOf: (index: number) => number,
  ) {
    const byDeadline = (a: number, b: number) => {
      const order = compareWithinLane({ deadlineMs: deadlineOf(a)! }, { deadlineMs: deadlineOf(b)! });
      return order < 0 || (order === 0 && rankOf(a) <= rankOf(b));
    };
    this.byDeadline = new MinHeap(byDeadline);
    this.notYetDue = new MinHeap(byDeadline);
  }

  push(index: number): void {
    const hasDeadline = this.deadlineOf(index) !== undefined;
    if (this.order === 'edf' && hasDeadline) this.byDeadline.push(index);
    else this.claimOrder.push(index);
    if (this.order === 'deadline-first' && hasDeadline) this.notYetDue.push(index);
  }

  /** The run that takes a slot freeing at `atMs`, removed from the queue; undefined when none waits. */
  take(atMs: number): number | undefined {
    for (let next = this.notYetDue.peek(); next !== undefined; next = this.notYetDue.peek()) {
      if (!pastSpillTime(this.deadlineOf(next)!, atMs)) break;
      this.byDeadline.push(this.notYetDue.pop()!);
    }
    for (let next = this.byDeadline.pop(); next !== undefined; next = this.byDeadline.pop()) {
      if (!this.isStarted(next)) return next;
    }
    while (this.head < this.claimOrder.length) {
      const next = this.claimOrder[this.head++]!;
      if (!this.isStarted(next)) return next;
    }
    return undefined;
  }
}

/**
 * Where and when each run really starts (same order as `runs`): on its candidate when a slot is free from the
 * time it queues, in `order` (ties in queuing order, then booking order); or, waiting at or past its spill time, on
 * the first candidate of its spill order with a free slot and nobody waiting there. `capacityOf` returns undefined
 * for an unlimited candidate (never waits).
 */
export function queuedStarts(
  runs: readonly QueuedRun[],
  capacityOf: (candidateId: string) => number | undefined,
  order: QueueOrder = 'edf',
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
  const queues = new Map<string, CandidateQueue>();
  /** Deadlines break ties in queuing order: the runs' rank in it. */
  const rank = new Map(arrivals.map((index, position) => [index, position]));
  const queueOf = (id: string) => {
    let queue = queues.get(id);
    if (!queue) {
      queue = new CandidateQueue(
        order,
        (index) => runs[index]!.deadlineMs,
        (index) => starts[index] !== null,
        (index) => rank.get(index)!,
      );
      queues.set(id, queue);
    }
    return queue;
  };
  const waiting = new Map<string, number>();
  /** Runs past their spill time still waiting, in queue order. */
  const spilling: number[] = [];
  const releases = new MinHeap<{ atMs: number; candidateId: string }>((a, b) => a.atMs <= b.atMs);

  const start = (index: number, candidateId: string, atMs: number) => {
    starts[index] = { startMs: atMs, candidateId };
    free.set(candidateId, freeOn(candidateId) - 1);
    releases.push({ atMs: atMs + runs[index]!.durationMs, candidateId });
  };
  const roomFor = (id: string) => freeOn(id) > 0 && (waiting.get(id) ?? 0) === 0;
  /** Serves the candidate's queue, then lends its remaining free slots to spilling runs that may use it. */
  const serve = (id: string, atMs: number) => {
    const queue = queueOf(id);
    while (freeOn(id) > 0) {
      const next = queue.take(atMs);
      if (next === undefined) break;
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
    const releaseMs = () => releases.peek()?.atMs ?? Infinity;
    const atMs = Math.min(releaseMs(), arrivalMs, spillMs);
    if (atMs === Infinity) break;
    // Half-open runs: slots that free at this instant serve runs queuing at it.
    if (releaseMs() === atMs) {
      const freed = new Set<string>();
      while (releaseMs() === atMs) {
        const id = releases.pop()!.candidateId;
        free.set(id, freeOn(id) + 1);
        freed.add(id);
      }
      for (const id of freed) serve(id, atMs);
    } else if (arrivalMs === atMs) {
      const index = arrivals[nextArrival++]!;
      const id = runs[index]!.candidateId;
      queueOf(id).push(index);
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
