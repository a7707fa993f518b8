import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSubmissions, type Submission } from '../../bench/arrivals.js';
import { HourlyUsage, hourlyStartBudget, peakHourlyWork } from '../../bench/capacity.js';
import { createRng } from '../../bench/rng.js';
import { buildSettings } from '../../bench/settings.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';

const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2023, 0, 2);
const MIN_MS = 60_000;

function submission(id: number, receivedMs: number, durationMs: number): Submission {
  return { id, assignmentId: 1, receivedMs, dueMs: 0, lateDueMs: 0, durationMs, cpuTimeSec: 1, memoryGb: 0.75 };
}

describe('benchmark capacity', () => {
  test('usage splits a run across the clock hours it spans and peaks as runs at once ÷ capacity', () => {
    const usage = new HourlyUsage();
    // 30 min in hour 0 and 30 in hour 1; then a whole hour 1 more: hour 1 holds 1.5 runs at once on average.
    usage.add('a', T0 + 30 * MIN_MS, 60 * MIN_MS);
    usage.add('a', T0 + HOUR_MS, 60 * MIN_MS);
    assert.equal(usage.peakUtilisation('a', 3), 0.5);
    assert.equal(usage.peakUtilisation('a', undefined), null);
    assert.equal(usage.peakUtilisation('b', 2), 0);
  });

  test('the hourly start budget is an hour per slot over the mean run time of the runs that can start then', () => {
    // Hour 0: two 6-min runs may start (mean 6 min); hour 2: one 30-min run; hour 1: nothing can, so the mean of all (14 min).
    const subs = [submission(0, T0, 6 * MIN_MS), submission(1, T0 + 5 * MIN_MS, 6 * MIN_MS)];
    subs.push(submission(2, T0 + 2 * HOUR_MS, 30 * MIN_MS));
    const budget = hourlyStartBudget(subs, 0);
    assert.equal(budget(2, T0), 20);
    assert.equal(budget(2, T0 + 2 * HOUR_MS), 4);
    assert.equal(budget(1, T0 + HOUR_MS), 4);
    assert.equal(budget(undefined, T0), Infinity);
    // With 1 h slack the 30-min run can also start in hour 3.
    assert.equal(hourlyStartBudget(subs, HOUR_MS)(1, T0 + 3 * HOUR_MS), 2);
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
