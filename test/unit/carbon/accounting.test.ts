// The carbon receipt checked against numbers worked out by hand from the first hours of the 2023 traces.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { accountRun, counterfactualInterval, estimateEnergy } from '../../../src/carbon/accounting.js';
import type { IntensityMeasurement } from '../../../src/carbon/provider.js';
import { loadTraceDirectory, tracesDirFromEnv } from '../../../src/carbon/trace-file.js';
import { createTraceProvider } from '../../../src/carbon/trace-provider.js';
import { profileBlendModel } from '../../../src/carbon/forecast-models.js';
import type { CarbonProvider } from '../../../src/carbon/provider.js';

const close = (actual: number | null | undefined, expected: number, tolerance = 1e-9) =>
  assert.ok(actual != null && Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

// The slice, 2023-01-01 UTC, gCO2/kWh:     00:00    01:00    02:00
//   US-CAL-CISO                            309.75   283.77   286.91
//   US-MIDW-MISO                           554.69   530.42   529.46
const T0 = Date.parse('2023-01-01T00:00:00Z');
const MIN = 60_000;

let provider: CarbonProvider;
before(async () => {
  const traces = await loadTraceDirectory(tracesDirFromEnv(process.env), ['US-CAL-CISO', 'US-MIDW-MISO']);
  assert.deepEqual(
    Array.from(traces.get('US-CAL-CISO')?.valuesGCo2PerKwh.subarray(0, 3) ?? []),
    [309.75, 283.77, 286.91],
  );
  assert.deepEqual(
    Array.from(traces.get('US-MIDW-MISO')?.valuesGCo2PerKwh.subarray(0, 3) ?? []),
    [554.69, 530.42, 529.46],
  );
  provider = createTraceProvider({ traces, model: profileBlendModel, now: () => Date.parse('2023-02-01T00:00:00Z') });
});

describe('run accounting', () => {
  it('energy = cpu s × W/core + wall s × GB × W/GB, over 3.6e6, times PUE', () => {
    // 9000 cpu-s × 5 W = 45 000 J; 6300 s × 0.5 GB × 0.3725 W/GB = 1173.375 J; total 46 173.375 J / 3.6e6.
    const energy = estimateEnergy({ cpuTimeSec: 9000, wallTimeSec: 6300, memoryGb: 0.5 });
    close(energy.cpuEnergyKwh, 0.0125);
    close(energy.memoryEnergyKwh, 0.000325937_5);
    close(energy.energyKwh, 0.012825937_5);
    const withPue = estimateEnergy(
      { cpuTimeSec: 9000, wallTimeSec: 6300, memoryGb: 0.5 },
      { wattsPerCore: 5, wattsPerMemoryGb: 0.3725, pue: 1.5 },
    );
    close(withPue.energyKwh, 0.012825937_5 * 1.5);
  });

  it('emissions use the time-weighted intensity of the real interval, the saving the home counterfactual', async () => {
    // Ran in CISO 00:30–02:15: (0.5 h × 309.75 + 1 h × 283.77 + 0.25 h × 286.91) / 1.75 h = 291.641428… g/kWh.
    const actual = await provider.actualIntensity({
      zone: 'US-CAL-CISO',
      startMs: T0 + 30 * MIN,
      endMs: T0 + 135 * MIN,
    });
    close(actual.intensityGCo2PerKwh, 510.3725 / 1.75);
    // Immediate-home (MISO) would have run 00:00–01:45: (1 h × 554.69 + 0.75 h × 530.42) / 1.75 h = 544.288571… g/kWh.
    const window = counterfactualInterval(T0, 6300);
    const counterfactual = await provider.actualIntensity({ zone: 'US-MIDW-MISO', ...window });
    close(counterfactual.intensityGCo2PerKwh, 952.505 / 1.75);
    const receipt = accountRun({
      usage: { cpuTimeSec: 9000, wallTimeSec: 6300, memoryGb: 0.5 },
      actual,
      counterfactual,
    });
    // 0.0128259375 kWh × 291.641428… = 3.740574735 g; × 544.288571… = 6.981011199 g; saving 3.240436464 g (46.4 %).
    close(receipt.actual?.emissionsGCo2, 3.740574735267857);
    close(receipt.counterfactual?.emissionsGCo2, 6.981011199107144);
    close(receipt.savingGCo2, 3.240436463839287);
    close(receipt.savingFraction, 0.4641786657287889);
    assert.equal(receipt.actual?.basis, 'average');
    assert.deepEqual(receipt.notes, []);
  });

  it('never compares an average figure with a marginal one', () => {
    const measure = (basis: IntensityMeasurement['basis']): IntensityMeasurement => ({
      zone: 'Z',
      startMs: 0,
      endMs: 1,
      intensityGCo2PerKwh: 100,
      basis,
      source: 'test',
    });
    const receipt = accountRun({
      usage: { cpuTimeSec: 720, wallTimeSec: 720, memoryGb: 0 },
      actual: measure('average'),
      counterfactual: measure('marginal'),
    });
    close(receipt.actual?.emissionsGCo2, 0.1); // 720 s × 5 W = 1 Wh = 0.001 kWh × 100 g/kWh
    assert.equal(receipt.counterfactual, null);
    assert.equal(receipt.savingGCo2, null);
    assert.match(receipt.notes.join(), /marginal/);
  });

  it('keeps the energy when no intensity is known', () => {
    const receipt = accountRun({
      usage: { cpuTimeSec: 3600, wallTimeSec: 3600, memoryGb: 0 },
      actual: null,
      counterfactual: null,
    });
    close(receipt.energyKwh, 0.005);
    assert.equal(receipt.actual, null);
    assert.match(receipt.notes.join(), /unknown/);
  });

  it('rejects negative or non-finite usage', () => {
    assert.throws(() => estimateEnergy({ cpuTimeSec: -1, wallTimeSec: 1, memoryGb: 0 }), RangeError);
    assert.throws(() => estimateEnergy({ cpuTimeSec: NaN, wallTimeSec: 1, memoryGb: 0 }), RangeError);
  });
});
