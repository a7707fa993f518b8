import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSubmissions } from '../../bench/arrivals.js';
import { HourlyUsage, peakHourlyWork } from '../../bench/capacity.js';
import { createRng } from '../../bench/rng.js';
import { buildSettings } from '../../bench/settings.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';

const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2023, 0, 2);
const MIN_MS = 60_000;

describe('benchmark capacity', () => {
  test('usage splits a run across the clock hours it spans and peaks as runs at once ÷ capacity', () => {
    const usage = new HourlyUsage();
    // 30 min in hour 0 and 30 in hour 1; then a whole hour 1 more: hour 1 holds 1.5 runs at once on average.
    usage.add('a', T0 + 30 * MIN_MS, 60 * MIN_MS);
    usage.add('a', T0 + HOUR_MS, 60 * MIN_MS);
    assert.equal(usage.peakUtilisation('a', 3), 0.5);
    assert.equal(usage.peakUtilisation('a', undefined), null);
    assert.equal(usage.peakUtilisation('b', 2), 0);
    // A share of a run (the oracle's LP may split one) counts its share of the busy time.
    usage.add('c', T0, 60 * MIN_MS, 0.25);
    assert.equal(usage.peakUtilisation('c', 1), 0.25);
  });

  test('the scarce setting gives each zone a third of the deadline-hour peak; Nautilus quotas follow node counts', async () => {
    const submissions = generateSubmissions(createRng(2023));
    const settings = buildSettings(await loadRegionsConfig(), submissions);
    assert.deepEqual(
      settings.map((s) => s.name),
      ['us-11-zones', 'us-11-zones-scarce', 'original-3-regions', 'original-3-nautilus'],
    );
    const [unlimited, scarce, , nautilus] = settings;
    assert.ok(unlimited!.candidates.every((c) => c.capacity === undefined));
    const capacities = new Set(scarce!.candidates.map((c) => c.capacity));
    assert.equal(capacities.size, 1);
    const ratio = peakHourlyWork(submissions) / [...capacities][0]!;
    assert.ok(ratio >= 2.5 && ratio <= 3.5, `peak ÷ capacity = ${ratio}`);
    assert.deepEqual(
      nautilus!.candidates.map((c) => [c.id, c.capacity]),
      [
        ['us-west', 4],
        ['us-central', 1],
        ['us-east', 2],
      ],
    );
  });
});
