import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareWithinLane, pastSpillTime } from '../../src/shared/deadline-first.js';
import { SPILL_LEAD_MS } from '../../src/shared/slot-spill.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const HOUR = 3_600_000;

describe('deadline-first service', () => {
  it('a run is past its spill time from a minute before its deadline on, a run without a deadline never', () => {
    assert.equal(pastSpillTime(NOW + SPILL_LEAD_MS, NOW), true);
    assert.equal(pastSpillTime(NOW - HOUR, NOW), true);
    assert.equal(pastSpillTime(NOW + SPILL_LEAD_MS + 1, NOW), false);
    assert.equal(pastSpillTime(null, NOW), false);
  });

  it('orders a lane earliest deadline first, runs without one last, ties left to the claim order', () => {
    const overdue = { deadlineMs: NOW - 30_000 };
    const soon = { deadlineMs: NOW + 30_000 };
    const later = { deadlineMs: NOW + HOUR };
    const laterToo = { deadlineMs: NOW + HOUR };
    const none = { deadlineMs: null };
    const order = [none, later, soon, laterToo, overdue].sort(compareWithinLane);
    // A stable sort: equal deadlines keep their claim order.
    assert.deepEqual(order, [overdue, soon, later, laterToo, none]);
  });
});
