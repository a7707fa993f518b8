import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type QueuedRun, queuedStarts } from '../../bench/slot-queue.js';
import { SPILL_LEAD_MS } from '../../src/shared/slot-spill.js';

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

  it('a queued run at its spill time takes the freed slot before an earlier-queued run with hours of slack', () => {
    // One slot, busy for 10 min. The run with slack queued first; the one due at 10.5 min (spill time 9.5 min)
    // queued after it and has nowhere to spill.
    const runs: QueuedRun[] = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: 10 * MIN },
      { candidateId: 'a', plannedStartMs: T0 + MIN, durationMs: 2 * MIN, deadlineMs: T0 + 5 * 60 * MIN },
      { candidateId: 'a', plannedStartMs: T0 + 2 * MIN, durationMs: 2 * MIN, deadlineMs: T0 + 10.5 * MIN },
    ];
    assert.deepEqual(
      startTimes(runs, () => 1),
      [T0, T0 + 12 * MIN, T0 + 10 * MIN],
    );
    // In claim order the run due first misses its deadline behind the one with slack.
    assert.deepEqual(
      queuedStarts(runs, () => 1, 'claim').map((s) => s.startMs),
      [T0, T0 + 10 * MIN, T0 + 12 * MIN],
    );
  });

  it('EDF serves the earlier deadline even with slack left; the deadline-first variant only from its spill time', () => {
    // Both have slack at the 10-min release: EDF (the product's rule) serves the earlier deadline, the variant
    // that serves a run ahead only from its spill time keeps the claim order.
    const runs: QueuedRun[] = [
      { candidateId: 'a', plannedStartMs: T0, durationMs: 10 * MIN },
      { candidateId: 'a', plannedStartMs: T0 + MIN, durationMs: MIN, deadlineMs: T0 + 5 * 60 * MIN },
      { candidateId: 'a', plannedStartMs: T0 + 2 * MIN, durationMs: MIN, deadlineMs: T0 + 60 * MIN },
    ];
    assert.deepEqual(
      startTimes(runs, () => 1),
      [T0, T0 + 11 * MIN, T0 + 10 * MIN],
    );
    assert.deepEqual(
      queuedStarts(runs, () => 1, 'deadline-first').map((s) => s.startMs),
      [T0, T0 + 10 * MIN, T0 + 11 * MIN],
    );
  });

  it('a run with slack is not starved by a stream of runs due at once: it starts by its own deadline', () => {
    // One slot, taken at T0 − 1 s for a minute; then a 1-min run queues 10 s before each release, each due 29 s
    // after it queues (past its spill time at once). The run with 30 min of slack queued before all of them waits
    // while they are due, not past its own deadline.
    const slackDeadlineMs = T0 + 30 * MIN;
    const blocker: QueuedRun = { candidateId: 'a', plannedStartMs: T0 - 1000, durationMs: MIN };
    const withSlack: QueuedRun = {
      candidateId: 'a',
      plannedStartMs: T0 - 500,
      durationMs: MIN,
      deadlineMs: slackDeadlineMs,
    };
    const stream: QueuedRun[] = Array.from({ length: 60 }, (_, i) => ({
      candidateId: 'a',
      plannedStartMs: T0 + (i + 1) * MIN - 10_000,
      durationMs: MIN,
      deadlineMs: T0 + (i + 1) * MIN + 19_000,
    }));
    const starts = queuedStarts([blocker, withSlack, ...stream], () => 1);
    const started = starts[1]!.startMs;
    assert.ok(started > T0 + 10 * MIN, 'the runs due at once went first');
    assert.ok(
      started >= slackDeadlineMs - SPILL_LEAD_MS && started <= slackDeadlineMs,
      `served from its spill time, by its deadline: started ${(started - T0) / MIN} min after T0`,
    );
  });
});
