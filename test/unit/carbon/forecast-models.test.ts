import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forecastModels, knownHistory } from '../../../src/carbon/forecast-models.js';
import type { ZoneTrace } from '../../../src/carbon/trace-file.js';

const HOUR = 3_600_000;

/** 30 days of a daily sine around 300 g/kWh. */
function syntheticTrace(
  values = Array.from({ length: 30 * 24 }, (_, h) => 300 + 100 * Math.sin((2 * Math.PI * h) / 24)),
) {
  return {
    zone: 'Z',
    startMs: 0,
    stepMs: HOUR,
    valuesGCo2PerKwh: Float64Array.from(values),
    sourceFiles: [],
  } satisfies ZoneTrace;
}

describe('forecast models', () => {
  it('a history exposes only hours that had ended at issue time', () => {
    const history = knownHistory(syntheticTrace(), 20 * 24 * HOUR + 30 * 60_000); // issued at 00:30 on day 20
    assert.equal(history.lastKnownStartMs, (20 * 24 - 1) * HOUR);
    assert.notEqual(history.valueAt((20 * 24 - 1) * HOUR), undefined);
    assert.equal(history.valueAt(20 * 24 * HOUR), undefined, 'the hour in progress is not known yet');
  });

  it('no model changes its forecast when the future changes', () => {
    const issuedAtMs = 20 * 24 * HOUR;
    const base = syntheticTrace();
    const altered = syntheticTrace(Array.from(base.valuesGCo2PerKwh, (v, h) => (h >= 20 * 24 ? v * 3 + 50 : v)));
    for (const model of Object.values(forecastModels)) {
      for (let ahead = 0; ahead < 30; ahead += 1) {
        const at = issuedAtMs + ahead * HOUR;
        assert.equal(
          model.predict(knownHistory(base, issuedAtMs), at),
          model.predict(knownHistory(altered, issuedAtMs), at),
          `${model.name} peeked at ${ahead} h`,
        );
      }
    }
  });

  it('persistence repeats the same hour of the latest known day; the blend follows the daily shape', () => {
    const trace = syntheticTrace();
    const issuedAtMs = 20 * 24 * HOUR;
    const history = knownHistory(trace, issuedAtMs);
    const truth = (at: number) => trace.valuesGCo2PerKwh[at / HOUR] ?? NaN;
    for (const ahead of [0, 5, 23]) {
      const at = issuedAtMs + ahead * HOUR;
      assert.ok(Math.abs((forecastModels['persistence-24h'].predict(history, at) ?? NaN) - truth(at)) < 1e-9);
      assert.ok(Math.abs((forecastModels['profile-blend'].predict(history, at) ?? NaN) - truth(at)) < 1e-9);
    }
    assert.equal(forecastModels['last-value'].predict(history, issuedAtMs + 5 * HOUR), truth(issuedAtMs - HOUR));
  });

  it('the blend starts at the latest anomaly and relaxes towards the profile', () => {
    const flat = Array.from({ length: 30 * 24 }, (_, h) => (h === 20 * 24 - 1 ? 400 : 300));
    const history = knownHistory(syntheticTrace(flat), 20 * 24 * HOUR);
    const model = forecastModels['profile-blend'];
    const near = model.predict(history, 20 * 24 * HOUR) ?? NaN;
    const far = model.predict(history, (20 * 24 + 20) * HOUR) ?? NaN;
    assert.ok(near > 380 && near < 400, `near ${near}`);
    assert.ok(far > 300 && far < near, `far ${far}`);
  });

  it('has nothing to say without history', () => {
    const history = knownHistory(syntheticTrace(), 0);
    for (const model of Object.values(forecastModels)) assert.equal(model.predict(history, 0), undefined);
  });
});
