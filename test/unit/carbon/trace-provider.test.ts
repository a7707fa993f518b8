import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forecastModels } from '../../../src/carbon/forecast-models.js';
import { CarbonProviderError } from '../../../src/carbon/provider.js';
import type { ZoneTrace } from '../../../src/carbon/trace-file.js';
import { createTraceProvider, replayShiftMs } from '../../../src/carbon/trace-provider.js';

const HOUR = 3_600_000;
const trace: ZoneTrace = {
  zone: 'Z',
  startMs: 0,
  stepMs: HOUR,
  valuesGCo2PerKwh: Float64Array.from({ length: 20 * 24 }, (_, h) => 100 + h),
  sourceFiles: ['Z_2023.csv'],
};
const traces = new Map([['Z', trace]]);

describe('trace provider', () => {
  it('forecasts hourly from the hour in progress, with actual values for hours that have ended', async () => {
    const now = 10 * 24 * HOUR + 30 * 60_000; // 00:30 on day 10
    const provider = createTraceProvider({ traces, model: forecastModels['persistence-24h'], now: () => now });
    const set = await provider.forecast({ zones: ['Z'], fromMs: now - 2 * HOUR, toMs: now + 3 * HOUR });
    const [forecast] = set.forecasts;
    assert.equal(forecast?.startMs, 10 * 24 * HOUR - 2 * HOUR);
    assert.equal(forecast?.basis, 'average');
    assert.equal(forecast?.source, 'trace:persistence-24h');
    // 22:00 and 23:00 of day 9 are known; from 00:00 on day 10 it is the value 24 h earlier.
    assert.deepEqual(forecast?.valuesGCo2PerKwh, [100 + 238, 100 + 239, 100 + 216, 100 + 217, 100 + 218, 100 + 219]);
  });

  it('stops at its horizon and says which zones it cannot forecast', async () => {
    const now = 10 * 24 * HOUR;
    const provider = createTraceProvider({
      traces,
      model: forecastModels['profile-blend'],
      now: () => now,
      horizonMs: 6 * HOUR,
    });
    const set = await provider.forecast({ zones: ['Z', 'Y'], fromMs: now, toMs: now + 24 * HOUR });
    assert.equal(set.forecasts[0]?.valuesGCo2PerKwh.length, 6);
    assert.deepEqual(set.missing, [{ zone: 'Y', reason: 'no trace for Y' }]);
  });

  it('fails with no-data when no requested zone can be forecast', async () => {
    const provider = createTraceProvider({ traces, model: forecastModels['profile-blend'], now: () => 0 });
    await assert.rejects(provider.forecast({ zones: ['Y'], fromMs: 0, toMs: HOUR }), (error: unknown) => {
      assert.ok(error instanceof CarbonProviderError);
      assert.equal(error.kind, 'no-data');
      return true;
    });
  });

  it('gives the time-weighted actual intensity of a past interval', async () => {
    const provider = createTraceProvider({ traces, model: forecastModels['profile-blend'], now: () => 0 });
    const measured = await provider.actualIntensity({ zone: 'Z', startMs: HOUR / 2, endMs: 2 * HOUR });
    assert.ok(Math.abs(measured.intensityGCo2PerKwh - (0.5 * 100 + 1 * 101) / 1.5) < 1e-9);
    await assert.rejects(
      provider.actualIntensity({ zone: 'Z', startMs: 0, endMs: 100 * 24 * HOUR }),
      CarbonProviderError,
    );
  });

  it('replays the trace year on the same weekday and hour when shifted', () => {
    const traceStart = Date.parse('2023-01-01T00:00:00Z');
    const now = Date.parse('2025-03-04T10:30:00Z');
    const shift = replayShiftMs(now, traceStart);
    assert.equal(shift % (7 * 24 * HOUR), 0);
    const replayed = new Date(now - shift);
    assert.equal(replayed.getUTCDay(), new Date(now).getUTCDay());
    assert.equal(replayed.getUTCHours(), 10);
    assert.ok(now - shift >= traceStart && now - shift < traceStart + 364 * 24 * HOUR);
  });
});
