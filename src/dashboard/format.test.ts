import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatEnergy, formatGrams, formatPercent, formatTime } from './format.js';

describe('dashboard figures', () => {
  it('keeps micrograms and kilograms readable', () => {
    assert.equal(formatGrams(6.944e-5), '69.4 µg');
    assert.equal(formatGrams(0.0123), '12.3 mg');
    assert.equal(formatGrams(2.5), '2.5 g');
    assert.equal(formatGrams(-1234), '-1.23 kg');
    assert.equal(formatGrams(null), '—');
  });

  it('shows energy in the unit that fits, and spans and times plainly', () => {
    assert.equal(formatEnergy(1.389e-6), '1.39 mWh');
    assert.equal(formatPercent(0.8333), '83.3 %');
    assert.equal(formatDuration(750), '750 ms');
    assert.equal(formatDuration(6_200), '6.2 s');
    assert.equal(formatDuration(245_000), '4 min 05 s');
    assert.equal(formatDuration(2 * 3_600_000 + 7 * 60_000), '2 h 07 min');
    assert.equal(formatTime(Date.UTC(2025, 2, 1, 14, 5, 9)), '2025-03-01 14:05:09 UTC');
  });
});
