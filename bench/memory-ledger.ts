// The reservation ledger in memory, for the year-long simulation: the same interface the product's PostgreSQL
// ledger (src/db/reservations.ts) implements, so bench:carbon drives the product's planner and booking rules.
import { bucketOf, bucketSpan, type Occupancy } from '../src/shared/capacity-buckets.js';
import type { ReservationLedger, ReservedSlot, ReserveRequest } from '../src/scheduling/reservation-ledger.js';

interface Booking extends ReservedSlot {
  first: number;
  last: number;
}

export class MemoryLedger implements ReservationLedger {
  private readonly buckets = new Map<string, Map<number, number>>();
  private readonly bookings = new Map<string, Booking>();
  /** Most runs any bucket of each candidate ever held: the peak utilisation's numerator. */
  readonly peakLoad = new Map<string, number>();

  // One planner at a time in the simulation, so "atomic" needs no lock here.
  reserve<P extends ReservedSlot>(request: ReserveRequest, choose: (occupancy: Occupancy) => P): Promise<P> {
    const earlier = this.bookings.get(request.runId);
    if (earlier) this.unbook(request.runId, earlier);
    const slot = choose(this.buckets);
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
    for (const [runId, booking] of this.bookings) if (booking.last < cutoff) this.bookings.delete(runId);
    for (const used of this.buckets.values())
      for (const bucket of used.keys()) if (bucket < cutoff) used.delete(bucket);
  }

  /** A bucket of the slot already holding `capacity` runs (as the PostgreSQL ledger's guard refuses), or null. */
  private fullBucket(slot: ReservedSlot, capacity: number | undefined): number | null {
    if (capacity === undefined) return null;
    const { first, last } = bucketSpan(slot.startMs, slot.durationMs);
    const used = this.buckets.get(slot.candidateId);
    for (let bucket = first; bucket <= last; bucket += 1) if ((used?.get(bucket) ?? 0) >= capacity) return bucket;
    return null;
  }

  private book(runId: string, slot: ReservedSlot): void {
    const { first, last } = bucketSpan(slot.startMs, slot.durationMs);
    let used = this.buckets.get(slot.candidateId);
    if (!used) this.buckets.set(slot.candidateId, (used = new Map<number, number>()));
    for (let bucket = first; bucket <= last; bucket += 1) {
      const count = (used.get(bucket) ?? 0) + 1;
      used.set(bucket, count);
      if (count > (this.peakLoad.get(slot.candidateId) ?? 0)) this.peakLoad.set(slot.candidateId, count);
    }
    this.bookings.set(runId, {
      candidateId: slot.candidateId,
      startMs: slot.startMs,
      durationMs: slot.durationMs,
      first,
      last,
    });
  }

  private unbook(runId: string, booking: Booking): void {
    const used = this.buckets.get(booking.candidateId);
    for (let bucket = booking.first; bucket <= booking.last; bucket += 1) {
      const count = (used?.get(bucket) ?? 0) - 1;
      if (count > 0) used?.set(bucket, count);
      else used?.delete(bucket);
    }
    this.bookings.delete(runId);
  }
}
