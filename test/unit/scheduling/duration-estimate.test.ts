import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DURATION_SETTINGS, estimateDuration } from '../../../src/scheduling/duration-estimate.js';

describe('duration estimate', () => {
  it('uses the default before any run of the assignment', () => {
    assert.deepEqual(estimateDuration([]), {
      estimatedDurationMs: DEFAULT_DURATION_SETTINGS.defaultDurationMs,
      basis: 'default',
      sampleCount: 0,
    });
  });

  it('is the median of earlier runs (mean of the middle two for an even count)', () => {
    assert.equal(estimateDuration([90_000, 30_000, 60_000]).estimatedDurationMs, 60_000);
    assert.equal(estimateDuration([10_000, 40_000, 20_000, 30_000]).estimatedDurationMs, 25_000);
  });

  it('only counts the most recent runs, and ignores failed ones', () => {
    const settings = { defaultDurationMs: 1, maxSamples: 3 };
    assert.equal(estimateDuration([1000, 1000, 1000, 9000, 9000, 9000], settings).estimatedDurationMs, 9000);
    assert.deepEqual(estimateDuration([0, NaN, -5, 4000], settings), {
      estimatedDurationMs: 4000,
      basis: 'median',
      sampleCount: 1,
    });
  });
});
