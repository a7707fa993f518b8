// The reservation ledger in memory, for the year-long simulation: the same interface the product's PostgreSQL
// ledger (src/db/reservations.ts) implements, so bench:carbon drives the product's planner and booking rules.
import {
  type BookedSpan,
  bucketCapacityMs,
  bucketOf,
  busyByBucket,
  countedMs,
  firstFullBucket,
  isCrowded,
  type Occupancy,
} from '../src/shared/capacity-buckets.js';
import type { ReservationLedger, ReservedSlot, ReserveRequest } from '../src/scheduling/reservation-ledger.js';

interface Booking extends ReservedSlot {
  first: number;
  /** Busy ms added to buckets first, first + 1, … */
  busyMs: number[];
}

export class MemoryLedger implements ReservationLedger {
  private readonly buckets = new Map<string, Map<number, number>>();
  /** Bookings touching each bucket, per candidate: a crowded bucket's runs are handed in as spans. */
  private readonly counts = new Map<string, Map<number, number>>();
  private readonly bookings = new Map<string, Booking>();
  /** Most busy time any bucket of each candidate ever held, ms: the peak utilisation's numerator. */
  readonly peakBusyMs = new Map<string, number>();

  // One planner at a time in the simulation, so "atomic" needs no lock here.
  reserve<P extends ReservedSlot>(request: ReserveRequest, choose: (occupancy: Occupancy) => P): Promise<P> {
    const earlier = this.bookings.get(request.runId);
    if (earlier) this.unbook(request.runId, earlier);
    const slot = choose({ busy: this.buckets, spans: this.crowdedSpans(request) });
    const full = this.fullBucket(slot, request.capacities?.get(slot.candidateId));
    if (full !== null) {
      if (earlier) this.book(request.runId, earlier);
      return Promise.reject(new Error(`capacity of ${slot.candidateId} exceeded at bucket ${full}`));
    }
    this.book(request.runId, slot);
    return Promise.resolve(slot);
  }

  start(runId: string, startMs: number): Promise<void> {
    const booking = this.bookings.get(runId);
    if (booking) {
      this.unbook(runId, booking);
      this.book(runId, { candidateId: booking.candidateId, startMs, durationMs: booking.durationMs });
    }
    return Promise.resolve();
  }

  release(runId: string): Promise<void> {
    const booking = this.bookings.get(runId);
    if (booking) this.unbook(runId, booking);
    return Promise.resolve();
  }

  /**
   * Forgets what lies wholly before `beforeMs`: nothing is planned in the past, so those buckets and finished
   * bookings cannot change a plan any more. Keeps a year's replay in bounded memory.
   */
  forget(beforeMs: number): void {
    const cutoff = bucketOf(beforeMs);
    for (const [runId, booking] of this.bookings) {
      if (booking.first + booking.busyMs.length - 1 < cutoff) this.bookings.delete(runId);
    }
    for (const perBucket of [...this.buckets.values(), ...this.counts.values()])
      for (const bucket of perBucket.keys()) if (bucket < cutoff) perBucket.delete(bucket);
  }

  /**
   * Per candidate with a capacity, the bookings touching a crowded bucket from `fromMs` on: the same spans the
   * PostgreSQL ledger reads (see isCrowded).
   */
  private crowdedSpans(request: ReserveRequest): Map<string, BookedSpan[]> {
    const spans = new Map<string, BookedSpan[]>();
    const from = bucketOf(request.fromMs);
    for (const booking of this.bookings.values()) {
      const capacity = request.capacities?.get(booking.candidateId);
      if (capacity === undefined || !request.candidateIds.includes(booking.candidateId)) continue;
      const counts = this.counts.get(booking.candidateId);
      const last = booking.first + booking.busyMs.length - 1;
      let crowded = false;
      for (let bucket = Math.max(from, booking.first); bucket <= last && !crowded; bucket += 1) {
        crowded = isCrowded(counts?.get(bucket) ?? 0, capacity);
      }
      if (!crowded) continue;
      let list = spans.get(booking.candidateId);
      if (!list) spans.set(booking.candidateId, (list = []));
      list.push({ startMs: booking.startMs, endMs: booking.startMs + countedMs(booking.durationMs) });
    }
    return spans;
  }

  /** A bucket of the slot without room for its busy time (as the PostgreSQL ledger's guard refuses), or null. */
  private fullBucket(slot: ReservedSlot, capacity: number | undefined): number | null {
    if (capacity === undefined) return null;
    return firstFullBucket(this.buckets.get(slot.candidateId), capacity, slot.startMs, slot.durationMs);
  }

  private book(runId: string, slot: ReservedSlot): void {
    const { first, busyMs } = busyByBucket(slot.startMs, slot.durationMs);
    let used = this.buckets.get(slot.candidateId);
    if (!used) this.buckets.set(slot.candidateId, (used = new Map<number, number>()));
    let counts = this.counts.get(slot.candidateId);
    if (!counts) this.counts.set(slot.candidateId, (counts = new Map<number, number>()));
    busyMs.forEach((ms, i) => {
      counts.set(first + i, (counts.get(first + i) ?? 0) + 1);
      const total = (used.get(first + i) ?? 0) + ms;
      used.set(first + i, total);
      if (total > (this.peakBusyMs.get(slot.candidateId) ?? 0)) this.peakBusyMs.set(slot.candidateId, total);
    });
    this.bookings.set(runId, {
      candidateId: slot.candidateId,
      startMs: slot.startMs,
      durationMs: slot.durationMs,
      first,
      busyMs,
    });
  }

  private unbook(runId: string, booking: Booking): void {
    const used = this.buckets.get(booking.candidateId);
    const counts = this.counts.get(booking.candidateId);
    booking.busyMs.forEach((ms, i) => {
      const bookings = (counts?.get(booking.first + i) ?? 0) - 1;
      if (bookings > 0) counts?.set(booking.first + i, bookings);
      else counts?.delete(booking.first + i);
      const left = (used?.get(booking.first + i) ?? 0) - ms;
      if (left > 0) used?.set(booking.first + i, left);
      else used?.delete(booking.first + i);
    });
    this.bookings.delete(runId);
  }
}

/** Peak busy time of a bucket as runs at once (busy time ÷ bucket length). */
export const runsAtOnce = (busyMs: number): number => busyMs / bucketCapacityMs(1);
