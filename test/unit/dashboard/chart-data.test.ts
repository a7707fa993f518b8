import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CarbonProviderError, type CarbonProvider } from '../../../src/carbon/provider.js';
import { parseRegionsConfig } from '../../../src/carbon/regions.js';
import { buildChartData, roundStep, type ChartRun } from '../../../src/dashboard/chart-data.js';
import { createIntensitySampler } from '../../../src/dashboard/intensity-sampler.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-01T12:00:00Z');
const regions = parseRegionsConfig({
  regions: { 'us-west': { zone: 'WEST' }, 'us-east': { zone: 'EAST' } },
});

/** West is 400 before T0 + 2 h and 100 after; east is 250 throughout. */
const grid: CarbonProvider = {
  name: 'grid',
  forecast: () => Promise.reject(new Error('not used')),
  actualIntensity: ({ zone, startMs, endMs }) =>
    zone === 'WEST' || zone === 'EAST'
      ? Promise.resolve({
          zone,
          startMs,
          endMs,
          basis: 'average',
          source: `grid:${zone}`,
          intensityGCo2PerKwh: zone === 'EAST' ? 250 : startMs < T0 + 2 * HOUR ? 400 : 100,
        })
      : Promise.reject(new CarbonProviderError('grid', 'no-data', `no ${zone}`, false)),
};
const down: CarbonProvider = {
  name: 'down',
  forecast: () => Promise.reject(new Error('not used')),
  actualIntensity: () => Promise.reject(new CarbonProviderError('down', 'network', 'unreachable', true)),
};

function run(overrides: Partial<ChartRun> = {}): ChartRun {
  return {
    id: '11111111-2222-3333-4444-555555555555',
    gradescopeSubmissionId: 7,
    region: 'us-west',
    carbonZone: 'WEST',
    receivedAt: new Date(T0),
    plannedStartAt: new Date(T0 + 2 * HOUR),
    containerStartedAt: new Date(T0 + 2 * HOUR + 60_000),
    containerFinishedAt: new Date(T0 + 2 * HOUR + 120_000),
    plannedIntensityGCo2PerKwh: 100,
    intensityGCo2PerKwh: 100,
    plan: null,
    ...overrides,
  };
}

describe('intensity chart data', () => {
  it('picks the smallest round step that keeps the sample count under the limit', () => {
    assert.equal(roundStep(8 * HOUR, 96), 5 * 60_000);
    assert.equal(roundStep(40_000, 120), 1000);
    assert.equal(roundStep(30 * 24 * HOUR, 96), 12 * HOUR);
  });

  it('has nothing to draw without runs', async () => {
    const data = await buildChartData({
      runs: [],
      providers: [grid],
      sampler: createIntensitySampler(),
      regions,
      nowMs: T0,
    });
    assert.equal(data, null);
  });

  it('draws every zone a plan weighed from the first provider that answers, with both starts on the line', async () => {
    const plan = {
      candidates: [
        { id: 'w', region: 'us-west', zone: 'WEST' },
        { id: 'e', region: 'us-east', zone: 'EAST' },
        { id: 'x', region: 'mars', zone: 'unmapped:mars' },
      ],
      forecastSources: [],
      providerAttempts: [],
      missingZones: [],
      notes: [],
    };
    const data = await buildChartData({
      runs: [run({ plan })],
      providers: [down, grid],
      sampler: createIntensitySampler(),
      regions,
      nowMs: T0 + 24 * HOUR,
      options: { paddingMs: HOUR, maxPoints: 48 },
    });
    assert.ok(data);
    assert.equal(data.provider, 'grid');
    assert.equal(data.stepMs, 10 * 60_000, '4 h 02 min in at most 48 samples');
    assert.equal(data.fromMs, T0 - HOUR);
    assert.equal(data.toMs, T0 + 3 * HOUR + 120_000);
    assert.deepEqual(
      data.series.map((s) => [s.zone, s.regions]),
      [
        ['WEST', ['us-west']],
        ['EAST', ['us-east']],
      ],
    );
    assert.ok(data.series.every((s) => s.samples.every((sample) => sample.valueGCo2PerKwh !== null)));
    assert.deepEqual(
      data.markers.map((m) => [m.kind, m.atMs - T0, m.valueGCo2PerKwh]),
      [
        ['planned', 2 * HOUR, 100],
        ['actual', 2 * HOUR + 60_000, 100],
      ],
    );
    assert.deepEqual(data.notes, ['regions without a carbon zone: mars', 'down: no figure (down: unreachable)']);
  });

  it('with a 24 h window spans the whole last day, however short the runs, at 15 min steps', async () => {
    const nowMs = T0 + 3 * HOUR;
    const data = await buildChartData({
      runs: [run()],
      providers: [grid],
      sampler: createIntensitySampler(),
      regions,
      nowMs,
      options: { windowMs: 24 * HOUR },
    });
    assert.ok(data);
    assert.equal(data.fromMs, nowMs - 24 * HOUR);
    assert.equal(data.stepMs, 15 * 60_000, '24 h in at most 96 samples');
    const west = data.series.find((s) => s.zone === 'WEST');
    assert.equal(west?.samples.length, 96);
    assert.equal(west?.samples[0]?.valueGCo2PerKwh, 400);
    assert.equal(west?.samples.at(-1)?.valueGCo2PerKwh, 100);
    assert.deepEqual(
      data.markers.map((m) => m.kind),
      ['planned', 'actual'],
    );
  });

  it('still marks the runs when no provider is configured, at their recorded intensity', async () => {
    const data = await buildChartData({
      runs: [run()],
      providers: [],
      sampler: createIntensitySampler(),
      regions,
      nowMs: T0 + 24 * HOUR,
    });
    assert.ok(data);
    assert.deepEqual(data.series, []);
    assert.equal(data.markers.length, 2);
    assert.deepEqual(data.notes, ['no carbon provider configured: no intensity series']);
  });
});
