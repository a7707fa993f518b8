import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../../bench/rng.js';
import { CAPACITY_BUCKET_MS, bucketSpan } from '../../../src/shared/capacity-buckets.js';
import {
  clearOfFull,
  freeingInstants,
  fullPeriods,
  fullPeriodsInBucket,
  joinBucketPeriods,
} from '../../../src/shared/capacity-instants.js';

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

  it('full periods kept per bucket, joined in bucket order, are the full periods of all the runs', () => {
    const rng = createRng(14);
    for (let trial = 0; trial < 300; trial += 1) {
      const capacity = 1 + Math.floor(rng.uniform(0, 4));
      const spans = Array.from({ length: Math.floor(rng.uniform(0, 14)) }, () => {
        // Starts on and off bucket boundaries, runs from 1 ms to 12 min: some cross one or two boundaries.
        const startMs =
          Math.floor(rng.uniform(0, 6)) * CAPACITY_BUCKET_MS +
          (rng.chance(0.3) ? 0 : Math.floor(rng.uniform(0, 300_000)));
        return span(startMs, startMs + 1 + Math.floor(rng.uniform(0, 12 * 60_000)));
      });
      // Each bucket sees only the runs touching it, as a ledger's bucket row lists them.
      const perBucket: ReturnType<typeof fullPeriods>[] = [];
      for (let bucket = 0; bucket < 12; bucket += 1) {
        const touching = spans.filter((s) => {
          const { first, last } = bucketSpan(s.startMs, s.endMs - s.startMs);
          return first <= bucket && bucket <= last;
        });
        perBucket.push(fullPeriodsInBucket(touching, capacity, bucket));
      }
      assert.deepEqual(joinBucketPeriods(perBucket), fullPeriods(spans, capacity), `trial ${trial}`);
    }
  });
});
