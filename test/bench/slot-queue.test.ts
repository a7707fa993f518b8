import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queuedStarts } from '../../bench/slot-queue.js';

const MIN = 60_000;
const T0 = Date.parse('2023-06-01T00:00:00Z');

describe('slot-queue replay', () => {
  it('runs booked into one bucket by busy time wait for a free slot when they overlap', () => {
    // Two 1-min runs both planned at T0 on a 1-slot node: their busy time fits the bucket, the second waits 1 min.
    const runs = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: MIN },
      { candidateId: 'a', plannedStartMs: T0, durationMs: MIN },
      { candidateId: 'a', plannedStartMs: T0 + 3 * MIN, durationMs: MIN },
    ];
    assert.deepEqual(
      queuedStarts(runs, () => 1),
      [T0, T0 + MIN, T0 + 3 * MIN],
    );
    assert.deepEqual(
      queuedStarts(runs, () => 2),
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
    assert.deepEqual(queuedStarts(runs, capacityOf), [T0 + 3 * MIN, T0, T0, T0]);
  });

  it('refuses a candidate without a slot', () => {
    assert.throws(
      () => queuedStarts([{ candidateId: 'a', plannedStartMs: T0, durationMs: MIN }], () => 0),
      /candidate a has no slot/,
    );
  });
});
