import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration, formatGrams, formatPercent, formatScore, formatTime } from './format.js';

describe('human-readable figures', () => {
  it('shows durations in the largest readable unit', () => {
    assert.deepEqual([850, 12_340, 245_000, 7_380_000, null].map(formatDuration), [
      '850 ms',
      '12.3 s',
      '4 min 05 s',
      '2 h 03 min',
      '-',
    ]);
  });

  it('shows instants in UTC to the second', () => {
    assert.equal(formatTime('2026-11-25T21:26:51.742Z'), '2026-11-25 21:26:51Z');
    assert.equal(formatTime(null), '-');
  });

  it('keeps four significant digits of tiny carbon figures and Gradescope-like scores', () => {
    assert.equal(formatGrams(0.30000000000000004), '0.3 g');
    assert.equal(formatGrams(0.000123456), '0.0001235 g');
    assert.equal(formatScore(9.999), '10');
    assert.equal(formatScore(7.25), '7.25');
    assert.equal(formatPercent(0.05 / 0.35), '14.3 %');
    assert.equal(formatBytes(25_276_502_016), '24 GiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
  });
});
