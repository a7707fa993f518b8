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

/** What the replay reports as it goes: the year-long simulation tells the reservation ledger, as the product does. */
export interface SlotQueueEvents {
  /** Run `index` (in the order added) took a slot: the product's claim, then the ledger's `start`. */
  started?: (index: number, start: QueuedStart) => void;
  /** Run `index` ended at `atMs` (its true run time after its start) and gave its slot back: the ledger's `release`. */
  ended?: (index: number, atMs: number) => void;
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
  const replay = new SlotQueueReplay(capacityOf, order);
  for (const run of runs) replay.add(run);
  return replay.finish();
}

/**
 * The same replay, fed as the simulation goes: runs are added as they are booked (each queuing no earlier than the
 * instant the replay has reached) and `advanceTo` plays every event up to an instant, reporting starts and ends.
 */
export class SlotQueueReplay {
  private readonly runs: QueuedRun[] = [];
  private readonly starts: Array<QueuedStart | null> = [];
  /** Runs by the instant they queue (ties in the order added). */
  private readonly arrivals: MinHeap<number>;
  /** Runs that may spill, by the instant they may (ties in the order added). */
  private readonly spills: MinHeap<number>;
  private readonly releases = new MinHeap<{ atMs: number; candidateId: string; index: number }>(
    (a, b) => a.atMs <= b.atMs,
  );
  private readonly free = new Map<string, number>();
  private readonly queues = new Map<string, CandidateQueue>();
  /** Deadlines break ties in queuing order: the runs' rank in it. */
  private readonly rank = new Map<number, number>();
  private readonly waiting = new Map<string, number>();
  /** Runs past their spill time still waiting, in queue order. */
  private readonly spilling: number[] = [];
  /** The instant every event up to which has been played. */
  private reachedMs = -Infinity;

  constructor(
    private readonly capacityOf: (candidateId: string) => number | undefined,
    private readonly order: QueueOrder = 'edf',
    private readonly events: SlotQueueEvents = {},
  ) {
    const queuedAt = (index: number) => this.queuedAt(index);
    const spillTime = (index: number) => Math.max(queuedAt(index), this.runs[index]!.spillAtMs!);
    this.arrivals = new MinHeap((a, b) => queuedAt(a) < queuedAt(b) || (queuedAt(a) === queuedAt(b) && a <= b));
    this.spills = new MinHeap((a, b) => spillTime(a) < spillTime(b) || (spillTime(a) === spillTime(b) && a <= b));
  }

  /** Adds a booked run; its index (the order added). It must not queue before the instant already reached. */
  add(run: QueuedRun): number {
    const index = this.runs.length;
    this.runs.push(run);
    this.starts.push(null);
    if (this.queuedAt(index) < this.reachedMs) {
      throw new RangeError(`run ${index} queues at ${this.queuedAt(index)}, before the replay's ${this.reachedMs}`);
    }
    this.arrivals.push(index);
    if (run.spillTo?.length && run.spillAtMs !== undefined) this.spills.push(index);
    return index;
  }

  /** Plays every release, arrival and spill at or before `untilMs`, in time order (releases first at an instant). */
  advanceTo(untilMs: number): void {
    for (;;) {
      const arrival = this.arrivals.peek();
      const arrivalMs = arrival === undefined ? Infinity : this.queuedAt(arrival);
      const spill = this.spills.peek();
      const spillMs = spill === undefined ? Infinity : Math.max(this.queuedAt(spill), this.runs[spill]!.spillAtMs!);
      const releaseMs = () => this.releases.peek()?.atMs ?? Infinity;
      const atMs = Math.min(releaseMs(), arrivalMs, spillMs);
      if (atMs === Infinity || atMs > untilMs) break;
      this.reachedMs = atMs;
      // Half-open runs: slots that free at this instant serve runs queuing at it.
      if (releaseMs() === atMs) {
        const freed = new Set<string>();
        while (releaseMs() === atMs) {
          const { candidateId, index } = this.releases.pop()!;
          this.free.set(candidateId, this.freeOn(candidateId) + 1);
          freed.add(candidateId);
          this.events.ended?.(index, atMs);
        }
        for (const id of freed) this.serve(id, atMs);
      } else if (arrivalMs === atMs) {
        const index = this.arrivals.pop()!;
        this.rank.set(index, this.rank.size);
        const id = this.runs[index]!.candidateId;
        this.queueOf(id).push(index);
        this.waiting.set(id, (this.waiting.get(id) ?? 0) + 1);
        this.serve(id, atMs);
      } else {
        const index = this.spills.pop()!;
        if (this.starts[index] !== null) continue;
        const target = this.runs[index]!.spillTo!.find((id) => this.roomFor(id));
        if (target === undefined) this.spilling.push(index);
        else {
          this.leave(index);
          this.start(index, target, atMs);
        }
      }
    }
    this.reachedMs = Math.max(this.reachedMs, untilMs);
  }

  /** Plays every event left; each run's start, in the order added. */
  finish(): QueuedStart[] {
    this.advanceTo(Infinity);
    return this.starts.map((started, index) => {
      if (started === null) throw new Error(`run ${index} never started in the slot-queue replay`);
      return started;
    });
  }

  private queuedAt(index: number): number {
    const run = this.runs[index]!;
    return run.queuedAtMs ?? run.plannedStartMs;
  }

  private freeOn(id: string): number {
    let slots = this.free.get(id);
    if (slots === undefined) {
      const capacity = this.capacityOf(id);
      if (capacity !== undefined && !(capacity >= 1))
        throw new RangeError(`candidate ${id} has no slot (capacity ${capacity})`);
      this.free.set(id, (slots = capacity ?? Infinity));
    }
    return slots;
  }

  private queueOf(id: string): CandidateQueue {
    let queue = this.queues.get(id);
    if (!queue) {
      queue = new CandidateQueue(
        this.order,
        (index) => this.runs[index]!.deadlineMs,
        (index) => this.starts[index] !== null,
        (index) => this.rank.get(index)!,
      );
      this.queues.set(id, queue);
    }
    return queue;
  }

  private start(index: number, candidateId: string, atMs: number): void {
    const start = { startMs: atMs, candidateId };
    this.starts[index] = start;
    this.free.set(candidateId, this.freeOn(candidateId) - 1);
    this.releases.push({ atMs: atMs + this.runs[index]!.durationMs, candidateId, index });
    this.events.started?.(index, start);
  }

  private roomFor(id: string): boolean {
    return this.freeOn(id) > 0 && (this.waiting.get(id) ?? 0) === 0;
  }

  /** Serves the candidate's queue, then lends its remaining free slots to spilling runs that may use it. */
  private serve(id: string, atMs: number): void {
    const queue = this.queueOf(id);
    while (this.freeOn(id) > 0) {
      const next = queue.take(atMs);
      if (next === undefined) break;
      this.waiting.set(id, (this.waiting.get(id) ?? 1) - 1);
      this.start(next, id, atMs);
    }
    const spilling = this.spilling;
    for (let i = 0; i < spilling.length && this.freeOn(id) > 0 && (this.waiting.get(id) ?? 0) === 0;) {
      const index = spilling[i]!;
      if (this.starts[index] !== null) spilling.splice(i, 1);
      else if (this.runs[index]!.spillTo!.includes(id)) {
        spilling.splice(i, 1);
        this.leave(index);
        this.start(index, id, atMs);
      } else i += 1;
    }
  }

  private leave(index: number): void {
    const own = this.runs[index]!.candidateId;
    this.waiting.set(own, (this.waiting.get(own) ?? 1) - 1);
  }
}
