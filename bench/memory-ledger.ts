// The reservation ledger in memory, for the year-long simulation: the same interface the product's PostgreSQL
// ledger (src/db/reservations.ts) implements, so bench:carbon drives the product's planner and booking rules. The
// simulation's slot-queue replay starts and releases runs on it as the product's claims do; a started run is held
// while it outlasts its booking, as migration 0017 holds it (test/integration/ledger-equivalence.test.ts).
import {
  type BookedSpan,
  bucketCapacityMs,
  bucketOf,
  busyByBucket,
  countedMs,
  firstFullBucket,
  type Occupancy,
} from '../src/shared/capacity-buckets.js';
import { fullPeriodsInBucket, joinBucketPeriods } from '../src/shared/capacity-instants.js';
import { heldDurationMs } from '../src/shared/started-hold.js';
import type { ReservationLedger, ReservedSlot, ReserveRequest } from '../src/scheduling/reservation-ledger.js';

interface Booking extends ReservedSlot {
  first: number;
  /** Busy ms added to buckets first, first + 1, … */
  busyMs: number[];
}

export class MemoryLedger implements ReservationLedger {
  private readonly buckets = new Map<string, Map<number, number>>();
  /** The runs whose bookings touch each bucket, per candidate: what a bucket's full periods are computed from. */
  private readonly runsIn = new Map<string, Map<number, Set<string>>>();
  /** Per candidate, the buckets that hold a full period and those periods (as the PostgreSQL ledger keeps them). */
  private readonly fullIn = new Map<string, Map<number, BookedSpan[]>>();
  /** Runs at once per candidate, as the last plan gave them: what full periods are counted against. */
  private readonly slots = new Map<string, number>();
  private readonly bookings = new Map<string, Booking>();
  /** Per candidate, the runs started there and not released yet: the ones a plan may hold (started-hold.ts). */
  private readonly startedOn = new Map<string, Set<string>>();
  /**
   * Most busy time any bucket of each candidate ever held by plans' bookings, ms: the peak utilisation's numerator.
   * Started runs are booked again where and when they run, and held, without a capacity check (the slot queue
   * keeps the runs at once within capacity): those bookings are left out, so this stays what the guard bounds.
   */
  readonly peakBusyMs = new Map<string, number>();

  // One planner at a time in the simulation, so "atomic" needs no lock here.
  reserve<P extends ReservedSlot>(request: ReserveRequest, choose: (occupancy: Occupancy) => P): Promise<P> {
    this.setSlots(request.capacities);
    const held = this.holdStarted(request.candidateIds, request.fromMs);
    const earlier = this.bookings.get(request.runId);
    if (earlier) this.unbook(request.runId, earlier);
    const slot = choose({ busy: this.buckets, full: this.fullPeriodsFrom(request) });
    const full = this.fullBucket(slot, request.capacities?.get(slot.candidateId));
    if (full !== null) {
      // Nothing of the refused plan stays, the holds included: PostgreSQL rolls its transaction back.
      if (earlier) this.book(request.runId, earlier);
      for (const [runId, booking] of held) {
        this.unbook(runId, this.bookings.get(runId) as Booking);
        this.book(runId, booking, true);
      }
      return Promise.reject(new Error(`capacity of ${slot.candidateId} exceeded at bucket ${full}`));
    }
    this.book(request.runId, slot);
    return Promise.resolve(slot);
  }

  // Synchronous under the promise: the simulation calls it from its slot-queue replay and plans right after.
  start(runId: string, startMs: number, candidateId?: string): Promise<void> {
    const booking = this.bookings.get(runId);
    if (booking) {
      this.unbook(runId, booking);
      const slot = { candidateId: candidateId ?? booking.candidateId, startMs, durationMs: booking.durationMs };
      this.book(runId, slot, true);
    }
    return Promise.resolve();
  }

  release(runId: string): Promise<void> {
    const booking = this.bookings.get(runId);
    if (booking) this.unbook(runId, booking);
    return Promise.resolve();
  }

  /**
   * Books again every started run on the candidates whose booking ended by `nowMs` (src/shared/started-hold.ts);
   * the bookings it replaced, by run.
   */
  private holdStarted(candidateIds: readonly string[], nowMs: number): Map<string, Booking> {
    const held = new Map<string, Booking>();
    for (const candidateId of candidateIds) {
      for (const runId of [...(this.startedOn.get(candidateId) ?? [])]) {
        const booking = this.bookings.get(runId) as Booking;
        const durationMs = heldDurationMs(booking.startMs, booking.durationMs, nowMs);
        if (durationMs === null) continue;
        held.set(runId, booking);
        this.unbook(runId, booking);
        this.book(runId, { candidateId, startMs: booking.startMs, durationMs }, true);
      }
    }
    return held;
  }

  /** A changed capacity changes every full period of the candidate: they are counted again. */
  private setSlots(capacities: ReadonlyMap<string, number> | undefined): void {
    for (const [candidateId, capacity] of capacities ?? []) {
      if (this.slots.get(candidateId) === capacity) continue;
      this.slots.set(candidateId, capacity);
      for (const bucket of this.runsIn.get(candidateId)?.keys() ?? []) this.recount(candidateId, bucket);
    }
  }

  /** Per requested candidate with a capacity, its full periods from `fromMs`'s bucket on, in time order. */
  private fullPeriodsFrom(request: ReserveRequest): Map<string, BookedSpan[]> {
    const full = new Map<string, BookedSpan[]>();
    const from = bucketOf(request.fromMs);
    for (const candidateId of request.candidateIds) {
      if (!request.capacities?.has(candidateId)) continue;
      const perBucket = [...(this.fullIn.get(candidateId) ?? [])].filter(([bucket]) => bucket >= from);
      perBucket.sort(([a], [b]) => a - b);
      full.set(candidateId, joinBucketPeriods(perBucket.map(([, periods]) => periods)));
    }
    return full;
  }

  /** Computes the bucket's full periods again from the runs touching it (after one was booked or freed there). */
  private recount(candidateId: string, bucket: number): void {
    const capacity = this.slots.get(candidateId);
    const runs = this.runsIn.get(candidateId)?.get(bucket);
    let full = this.fullIn.get(candidateId);
    if (!full) this.fullIn.set(candidateId, (full = new Map<number, BookedSpan[]>()));
    const spans = [...(runs ?? [])].map((runId) => {
      const booking = this.bookings.get(runId) as Booking;
      return { startMs: booking.startMs, endMs: booking.startMs + countedMs(booking.durationMs) };
    });
    const periods = capacity === undefined ? [] : fullPeriodsInBucket(spans, capacity, bucket);
    if (periods.length > 0) full.set(bucket, periods);
    else full.delete(bucket);
  }

  /** A bucket of the slot without room for its busy time (as the PostgreSQL ledger's guard refuses), or null. */
  private fullBucket(slot: ReservedSlot, capacity: number | undefined): number | null {
    if (capacity === undefined) return null;
    return firstFullBucket(this.buckets.get(slot.candidateId), capacity, slot.startMs, slot.durationMs);
  }

  private book(runId: string, slot: ReservedSlot, started = false): void {
    const { first, busyMs } = busyByBucket(slot.startMs, slot.durationMs);
    let used = this.buckets.get(slot.candidateId);
    if (!used) this.buckets.set(slot.candidateId, (used = new Map<number, number>()));
    let runsIn = this.runsIn.get(slot.candidateId);
    if (!runsIn) this.runsIn.set(slot.candidateId, (runsIn = new Map<number, Set<string>>()));
    busyMs.forEach((ms, i) => {
      const runs = runsIn.get(first + i);
      if (runs) runs.add(runId);
      else runsIn.set(first + i, new Set([runId]));
      const total = (used.get(first + i) ?? 0) + ms;
      used.set(first + i, total);
      if (!started && total > (this.peakBusyMs.get(slot.candidateId) ?? 0))
        this.peakBusyMs.set(slot.candidateId, total);
    });
    this.bookings.set(runId, {
      candidateId: slot.candidateId,
      startMs: slot.startMs,
      durationMs: slot.durationMs,
      first,
      busyMs,
    });
    if (started) {
      const runs = this.startedOn.get(slot.candidateId);
      if (runs) runs.add(runId);
      else this.startedOn.set(slot.candidateId, new Set([runId]));
    }
    busyMs.forEach((_, i) => this.recount(slot.candidateId, first + i));
  }

  private unbook(runId: string, booking: Booking): void {
    const used = this.buckets.get(booking.candidateId);
    const runsIn = this.runsIn.get(booking.candidateId);
    booking.busyMs.forEach((ms, i) => {
      const runs = runsIn?.get(booking.first + i);
      runs?.delete(runId);
      if (runs?.size === 0) runsIn?.delete(booking.first + i);
      const left = (used?.get(booking.first + i) ?? 0) - ms;
      if (left > 0) used?.set(booking.first + i, left);
      else used?.delete(booking.first + i);
    });
    this.bookings.delete(runId);
    this.startedOn.get(booking.candidateId)?.delete(runId);
    booking.busyMs.forEach((_, i) => this.recount(booking.candidateId, booking.first + i));
  }
}

/** Peak busy time of a bucket as runs at once (busy time ÷ bucket length). */
export const runsAtOnce = (busyMs: number): number => busyMs / bucketCapacityMs(1);
