import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meanIntensityOver } from '../../../src/carbon/intensity-series.js';
import { bestWindow } from '../../../src/scheduling/window-search.js';

const MIN = 60_000;

/** Deterministic pseudo-random integers (a small LCG is enough for test data). */
function lcg(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % below;
  };
}

describe('bestWindow', () => {
  it('finds the same minimum as trying every minute, ties to the earliest start', () => {
    const next = lcg(7);
    for (let round = 0; round < 300; round += 1) {
      const stepMs = [5, 15, 60][next(3)]! * MIN;
      const grid = {
        startMs: 0,
        stepMs,
        valuesGCo2PerKwh: Array.from({ length: 4 + next(20) }, () => 50 + next(8) * 25),
      };
      const durationMs = (1 + next(150)) * MIN;
      const earliestMs = next(60) * MIN;
      const latestMs = earliestMs + next(12 * 60) * MIN;
      let brute: { startMs: number; mean: number } | null = null;
      for (let startMs = earliestMs; startMs <= latestMs; startMs += MIN) {
        const mean = meanIntensityOver(grid, startMs, startMs + durationMs);
        if (mean !== null && (brute === null || mean < brute.mean - 1e-9)) brute = { startMs, mean };
      }
      const found = bestWindow(grid, earliestMs, latestMs, durationMs);
      if (brute === null) {
        assert.equal(found, null);
        continue;
      }
      assert.ok(found, `round ${round}: expected a window`);
      assert.ok(
        Math.abs(found.meanGCo2PerKwh - brute.mean) < 1e-9,
        `round ${round}: ${found.meanGCo2PerKwh} vs ${brute.mean}`,
      );
      assert.equal(found.startMs, brute.startMs, `round ${round}: earliest start`);
    }
  });

  it('returns null when the grid cannot hold the run before the latest start', () => {
    const grid = { startMs: 0, stepMs: 60 * MIN, valuesGCo2PerKwh: [100] };
    assert.equal(bestWindow(grid, 30 * MIN, 40 * MIN, 45 * MIN), null);
  });
});
