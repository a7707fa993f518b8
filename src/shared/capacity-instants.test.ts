import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clearOfFull, freeingInstants, fullPeriods } from './capacity-instants.js';

const span = (startMs: number, endMs: number) => ({ startMs, endMs });

describe('capacity at an instant', () => {
  it('finds the periods where as many runs as slots run at once, half-open', () => {
    const spans = [span(0, 10), span(5, 15), span(10, 20), span(30, 40)];
    assert.deepEqual(fullPeriods(spans, 1), [span(0, 20), span(30, 40)]);
    assert.deepEqual(fullPeriods(spans, 2), [span(5, 15)]);
    assert.deepEqual(fullPeriods(spans, 3), []);
    // A run ending at 10 and one starting at 10 never overlap.
    assert.deepEqual(fullPeriods([span(0, 10), span(10, 20)], 2), []);
  });

  it('a run fits only where it meets no full period; the instants periods end are offered', () => {
    const periods = [span(5, 15), span(30, 40)];
    assert.equal(clearOfFull(periods, 0, 5), true);
    assert.equal(clearOfFull(periods, 0, 6), false);
    assert.equal(clearOfFull(periods, 15, 15), true);
    assert.equal(clearOfFull(periods, 15, 16), false);
    assert.equal(clearOfFull(periods, 40, 1000), true);
    assert.deepEqual(freeingInstants(periods, 0, 100), [15, 40]);
    assert.deepEqual(freeingInstants(periods, 15, 39), []);
  });
});
