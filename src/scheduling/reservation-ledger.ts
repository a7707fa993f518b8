// The book of (candidate, start window) reservations that capacity-aware planning reads and writes. One
// interface, two implementations: PostgreSQL for the product (src/db/reservations.ts), memory for the
// year-long simulation (bench/memory-ledger.ts). Declarations only.
import type { Occupancy } from '../shared/capacity-buckets.js';

/** Where and when a run is booked; a run holds at most one reservation. */
export interface ReservedSlot {
  candidateId: string;
  startMs: number;
  durationMs: number;
}

export interface ReserveRequest {
  runId: string;
  /** Candidates whose occupancy `choose` needs (the run's earlier reservation is never counted). */
  candidateIds: readonly string[];
  /** Occupancy before this instant is not read: no plan starts in the past. */
  fromMs: number;
  /**
   * Runs each candidate's buckets may hold: booking past it fails and books nothing. A candidate missing here is
   * not checked (unlimited, or an expedited run that takes room regardless).
   */
  capacities?: ReadonlyMap<string, number>;
}

export interface ReservationLedger {
  /**
   * Atomically: reads the candidates' occupancy, lets `choose` (the pure planner) pick a slot from it and books
   * that slot in place of the run's earlier reservation. No other reservation of these candidates can be booked
   * in between, so the slot `choose` saw free is still free; two racing plans get two different slots. Throws,
   * booking nothing and keeping the earlier reservation, when the slot would exceed `request.capacities`.
   * `choose` may be called more than once (a plan tried on a copy of the book that turned out stale is made
   * again); the slot from its last call is the one booked.
   */
  reserve<P extends ReservedSlot>(request: ReserveRequest, choose: (occupancy: Occupancy) => P): Promise<P>;
  /**
   * The run started at `startMs` on `candidateId` (a spilled run starts on another candidate than booked; by
   * default the booked one): its reservation now covers the run where and when it really runs (no capacity
   * check), and is held while it runs past its estimate (src/shared/started-hold.ts) until `release`.
   */
  start(runId: string, startMs: number, candidateId?: string): Promise<void>;
  /** The run ended, failed or left the plan: frees its buckets. Idempotent. */
  release(runId: string): Promise<void>;
}
