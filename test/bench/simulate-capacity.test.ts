// bench:carbon drives the product's capacity planner and the ledger interface: with finite capacity no bucket of
// any candidate ever holds more busy time than its slots run, and deadline misses are counted per run, by cause:
// no room before the deadline, or held past it in the slot queue where busy-time bookings overlap for a moment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSubmissions } from '../../bench/arrivals.js';
import { createRng } from '../../bench/rng.js';
import { buildSettings } from '../../bench/settings.js';
import { type SimSetting, simulate } from '../../bench/simulate.js';
import { DEFAULT_POWER_MODEL } from '../../src/carbon/accounting.js';
import { DEFAULT_FORECAST_MODEL, forecastModels } from '../../src/carbon/forecast-models.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';
import { loadTraceDirectory, tracesDirFromEnv } from '../../src/carbon/trace-file.js';
import type { PolicyName } from '../../src/scheduling/policies.js';

const HOUR_MS = 3_600_000;
const POLICIES: PolicyName[] = ['immediate-home', 'spatial', 'temporal', 'spatiotemporal'];

describe('simulation under capacity', () => {
  test('a deadline week through 3 regions of 2 slots: never over capacity, misses counted', async () => {
    // The first 2,000 submissions of the year: the first due-date bursts of Winter term.
    const submissions = generateSubmissions(createRng(2023)).slice(0, 2000);
    const original = buildSettings(await loadRegionsConfig(), submissions).find((s) => s.name === 'original-3-regions');
    assert.ok(original);
    const traces = await loadTraceDirectory(
      tracesDirFromEnv(process.env),
      original.candidates.map((c) => c.zone),
    );
    const run = (setting: SimSetting) =>
      simulate({
        variant: 'test',
        setting,
        homeIds: [setting.candidates[0]!.id],
        slacksMs: [0, 6 * HOUR_MS],
        policies: POLICIES,
        dueGraceMs: null,
        replan: true,
        exactHomes: false,
        queueOrder: 'edf',
        submissions,
        traces,
        model: forecastModels[DEFAULT_FORECAST_MODEL],
        power: DEFAULT_POWER_MODEL,
      });
    const capped = { ...original, candidates: original.candidates.map((c) => ({ ...c, capacity: 2 })) };
    const [free, limited] = await Promise.all([run(original), run(capped)]);

    for (const slack of limited.slacks) {
      const totals = slack.homes[0]!;
      for (const policy of POLICIES) {
        for (const [candidate, peak] of Object.entries(totals.peakLoad[policy]!)) {
          assert.ok(
            peak <= 2,
            `${policy} at ${slack.slackMs / HOUR_MS} h put ${peak} runs at once in a bucket of ${candidate}`,
          );
        }
        const { deadlineMisses, missedNoRoom, missedInSlotQueue } = totals;
        assert.equal(deadlineMisses[policy], missedNoRoom[policy]! + missedInSlotQueue[policy]!);
      }
    }
    // Unlimited candidates never push a start: no misses, and some bucket somewhere holds more than 2.
    for (const slack of free.slacks) {
      for (const policy of POLICIES) assert.equal(slack.homes[0]!.deadlineMisses[policy], 0);
    }
    const freePeak = Math.max(...Object.values(free.slacks[1]!.homes[0]!.peakLoad['spatiotemporal']!));
    assert.ok(freePeak > 2, `the burst needs more than 2 slots somewhere (peak ${freePeak})`);
    // Zero slack under capacity: bursts must wait past their deadline, and the misses are counted.
    assert.ok(limited.slacks[0]!.homes[0]!.deadlineMisses['immediate-home']! > 0);
    // Busy-time bookings let short runs share a bucket; where they overlap the slot queue makes some wait.
    const zeroSlack = limited.slacks[0]!.homes[0]!;
    assert.ok(zeroSlack.queueWaitMs['immediate-home']!.longest > 0, 'some run waited in the slot queue');
    // The replay starts and releases runs on the ledger, and started runs hold their slot while they run
    // (src/shared/started-hold.ts): at zero slack the plan itself sees most misses coming and records them.
    const { missedNoRoom, missedInSlotQueue } = zeroSlack;
    assert.ok(
      missedNoRoom['immediate-home']! > missedInSlotQueue['immediate-home']!,
      `no room ${missedNoRoom['immediate-home']}, queued ${missedInSlotQueue['immediate-home']}`,
    );
    const freeTotals = free.slacks[0]!.homes[0]!;
    for (const policy of POLICIES) assert.equal(freeTotals.queueWaitMs[policy]!.longest, 0, 'unlimited: no queue');
    // Capacity costs carbon: the constrained spatiotemporal plan cannot beat the unconstrained one by much.
    const grams = (result: typeof free) => result.slacks[1]!.homes[0]!.emissionsGCo2['spatiotemporal']!;
    assert.ok(grams(limited) >= grams(free) * 0.99, `${grams(limited)} g under capacity vs ${grams(free)} g free`);
  });
});
