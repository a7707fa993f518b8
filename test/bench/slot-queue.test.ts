import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type QueuedRun, queuedStarts } from '../../bench/slot-queue.js';

const MIN = 60_000;
const T0 = Date.parse('2023-06-01T00:00:00Z');

const startTimes = (runs: readonly QueuedRun[], capacityOf: (id: string) => number | undefined) =>
  queuedStarts(runs, capacityOf).map((start) => start.startMs);

describe('slot-queue replay', () => {
  it('runs booked into one bucket by busy time wait for a free slot when they overlap', () => {
    // Two 1-min runs both planned at T0 on a 1-slot node: their busy time fits the bucket, the second waits 1 min.
    const runs = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: MIN },
      { candidateId: 'a', plannedStartMs: T0, durationMs: MIN },
      { candidateId: 'a', plannedStartMs: T0 + 3 * MIN, durationMs: MIN },
    ];
    assert.deepEqual(
      startTimes(runs, () => 1),
      [T0, T0 + MIN, T0 + 3 * MIN],
    );
    assert.deepEqual(
      startTimes(runs, () => 2),
      [T0, T0, T0 + 3 * MIN],
    );
  });

  it('serves in planned-start order, not booking order, and never delays an unlimited candidate', () => {
    const runs = [
      { candidateId: 'a', plannedStartMs: T0 + 2 * MIN, durationMs: MIN },
      { candidateId: 'a', plannedStartMs: T0, durationMs: 3 * MIN },
      { candidateId: 'b', plannedStartMs: T0, durationMs: 3 * MIN },
      { candidateId: 'b', plannedStartMs: T0, durationMs: 3 * MIN },
    ];
    const capacityOf = (id: string) => (id === 'a' ? 1 : undefined);
    assert.deepEqual(startTimes(runs, capacityOf), [T0 + 3 * MIN, T0, T0, T0]);
  });

  it('a queued run at its spill time takes a free slot on the first candidate of its spill order', () => {
    // The first run overruns its booking; the second, due at once (0-h slack), spills to c (b has a waiter).
    const runs: QueuedRun[] = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: 4 * MIN },
      { candidateId: 'b', plannedStartMs: T0, durationMs: 4 * MIN },
      { candidateId: 'b', plannedStartMs: T0, durationMs: MIN },
      { candidateId: 'a', plannedStartMs: T0 + 2 * MIN, durationMs: MIN, spillAtMs: T0 + MIN, spillTo: ['b', 'c'] },
    ];
    const starts = queuedStarts(runs, () => 1);
    assert.deepEqual(starts[3], { startMs: T0 + 2 * MIN, candidateId: 'c' });
    // Before its spill time it waits for its own node instead.
    const later = queuedStarts([...runs.slice(0, 3), { ...runs[3]!, spillAtMs: T0 + 10 * MIN }], () => 1);
    assert.deepEqual(later[3], { startMs: T0 + 4 * MIN, candidateId: 'a' });
  });

  it('a run past its spill time takes the first slot that frees on a candidate it may spill to', () => {
    const runs: QueuedRun[] = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: 10 * MIN },
      { candidateId: 'b', plannedStartMs: T0, durationMs: 3 * MIN },
      { candidateId: 'a', plannedStartMs: T0 + MIN, durationMs: MIN, spillAtMs: T0, spillTo: ['b'] },
    ];
    assert.deepEqual(queuedStarts(runs, () => 1)[2], { startMs: T0 + 3 * MIN, candidateId: 'b' });
  });

  it('a run waiting only for room queues at once and takes the slot the instant it frees', () => {
    // Booked behind a 5-min estimate, the run queues at T0; the run before it really ends after 2 min.
    const runs: QueuedRun[] = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: 2 * MIN },
      { candidateId: 'a', plannedStartMs: T0 + 5 * MIN, queuedAtMs: T0, durationMs: MIN },
    ];
    assert.deepEqual(
      startTimes(runs, () => 1),
      [T0, T0 + 2 * MIN],
    );
  });

  it('refuses a candidate without a slot', () => {
    assert.throws(
      () => queuedStarts([{ candidateId: 'a', plannedStartMs: T0, durationMs: MIN }], () => 0),
      /candidate a has no slot/,
    );
  });
});
