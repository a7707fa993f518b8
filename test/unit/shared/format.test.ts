import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatBytes,
  formatDuration,
  formatEnergy,
  formatGrams,
  formatKwh,
  formatPercent,
  formatScore,
  formatTime,
  NONE,
} from '../../../src/shared/format.js';

describe('human-readable figures', () => {
  it('shows grams of CO2 from micrograms to kilograms', () => {
    assert.equal(formatGrams(6.944e-5), '69.4 µg');
    assert.equal(formatGrams(0.000123456), '123 µg');
    assert.equal(formatGrams(0.0123), '12.3 mg');
    assert.equal(formatGrams(0.30000000000000004), '300 mg');
    assert.equal(formatGrams(2.5), '2.5 g');
    assert.equal(formatGrams(-1234), '-1.23 kg');
    assert.equal(formatGrams(null), NONE);
  });

  it('shows energy in the unit that fits, or in kWh where figures are compared', () => {
    assert.equal(formatEnergy(1.389e-6), '1.39 mWh');
    assert.equal(formatKwh(0.003), '0.003 kWh');
    assert.equal(formatKwh(1.3889e-6), '1.389e-6 kWh');
  });

  it('shows durations in the largest readable unit, keeping a sign', () => {
    assert.deepEqual(
      [750, 850, 6_200, 12_340, 245_000, 7_380_000, 2 * 3_600_000 + 7 * 60_000, -1500, null].map(formatDuration),
      ['750 ms', '850 ms', '6.2 s', '12.3 s', '4 min 05 s', '2 h 03 min', '2 h 07 min', '−1.5 s', NONE],
    );
  });

  it('shows instants in UTC to the second, from a Date, epoch ms or ISO text', () => {
    assert.equal(formatTime('2026-11-25T21:26:51.742Z'), '2026-11-25 21:26:51Z');
    assert.equal(formatTime(Date.UTC(2025, 2, 1, 14, 5, 9)), '2025-03-01 14:05:09Z');
    assert.equal(formatTime(new Date(Date.UTC(2025, 2, 1, 14, 5, 9))), '2025-03-01 14:05:09Z');
    assert.equal(formatTime(null), NONE);
  });

  it('shows Gradescope-like scores, percentages and binary sizes', () => {
    assert.equal(formatScore(9.999), '10');
    assert.equal(formatScore(7.25), '7.25');
    assert.equal(formatPercent(0.05 / 0.35), '14.3 %');
    assert.equal(formatPercent(0.8333), '83.3 %');
    assert.equal(formatBytes(25_276_502_016), '24 GiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
  });
});
