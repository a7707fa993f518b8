import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCasProvider } from '../../../src/carbon/cas-provider.js';
import { type CasReplayServer, startCasReplayServer } from '../../support/cas-replay-server.js';
import { checkForecastSet, measureRunWithFallback } from '../../../src/carbon/fallback-provider.js';
import { forecastModels } from '../../../src/carbon/forecast-models.js';
import {
  type CarbonProvider,
  CarbonProviderError,
  type ForecastSet,
  type IntensityMeasurement,
} from '../../../src/carbon/provider.js';
import { createTraceProvider } from '../../../src/carbon/trace-provider.js';

const HOUR = 3_600_000;
const NOW = 10 * 24 * HOUR;
const trace = {
  zone: 'US-CAL-CISO',
  startMs: 0,
  stepMs: HOUR,
  valuesGCo2PerKwh: Float64Array.from({ length: 20 * 24 }, (_, h) => 200 + (h % 24)),
  sourceFiles: [],
};
const traceProvider = createTraceProvider({
  traces: new Map([['US-CAL-CISO', trace]]),
  model: forecastModels['profile-blend'],
  now: () => NOW,
});
const request = { zones: ['US-CAL-CISO'], fromMs: NOW, toMs: NOW + 6 * HOUR, runDurationMs: 600_000 };

/** A provider whose every call does what `behave` says. */
function fake(
  name: string,
  behave: () => Promise<ForecastSet>,
  measure?: () => Promise<IntensityMeasurement>,
): CarbonProvider {
  return {
    name,
    forecast: behave,
    actualIntensity: measure ?? (() => Promise.reject(new CarbonProviderError(name, 'no-data', 'none', false))),
  };
}
const failing = (name: string, kind: 'timeout' | 'http-status') =>
  fake(name, () => Promise.reject(new CarbonProviderError(name, kind, `${kind} happened`, true)));

describe('forecast answers', () => {
  let server: CasReplayServer;
  before(async () => (server = await startCasReplayServer('error-500')));
  after(() => server.close());

  it('a cas API answering 500 fails with its kind, for the next provider in line to answer', async () => {
    const cas = createCasProvider({
      url: server.url,
      version: 'v2023-05',
      locations: new Map([['US-CAL-CISO', { id: 'Nautilus:us-west', latitude: 37.338208, longitude: -121.886329 }]]),
      dataSource: 'azure',
      wattsPerCore: 5,
      coreCount: 1,
      timeoutMs: 1_000,
      now: () => NOW,
    });
    await assert.rejects(
      cas.forecast(request),
      (error: unknown) =>
        error instanceof CarbonProviderError && error.kind === 'http-status' && /HTTP 500/.test(error.message),
    );
    const fallback = checkForecastSet('trace', await traceProvider.forecast(request));
    assert.equal(fallback.forecasts[0]?.zone, 'US-CAL-CISO');
  });

  it('treats nonsense (NaN, negative, no values, zero step, no forecast) as an invalid response', () => {
    const series = {
      zone: 'US-CAL-CISO',
      basis: 'average' as const,
      source: 'x',
      issuedAtMs: NOW,
      startMs: NOW,
      stepMs: HOUR,
      valuesGCo2PerKwh: [200],
    };
    const broken = [
      [{ ...series, valuesGCo2PerKwh: [NaN] }],
      [{ ...series, valuesGCo2PerKwh: [-1] }],
      [{ ...series, valuesGCo2PerKwh: [] }],
      [{ ...series, stepMs: 0 }],
      [],
    ];
    for (const forecasts of broken) {
      assert.throws(
        () => checkForecastSet('nonsense', { provider: 'nonsense', forecasts, missing: [] }),
        (error: unknown) => error instanceof CarbonProviderError && error.kind === 'invalid-response',
        JSON.stringify(forecasts),
      );
    }
    const good = { provider: 'good', forecasts: [series], missing: [] };
    assert.equal(checkForecastSet('good', good), good);
  });
});

describe('measuring a run with fallback', () => {
  const actual = { zone: 'US-CAL-CISO', startMs: 2 * HOUR, endMs: 3 * HOUR };
  const counterfactual = { zone: 'US-CAL-CISO', startMs: 0, endMs: HOUR };

  it('takes the run and its counterfactual from the same provider', async () => {
    const result = await measureRunWithFallback([failing('cas', 'timeout'), traceProvider], actual, counterfactual);
    assert.equal(result.actual?.intensityGCo2PerKwh, 202);
    assert.equal(result.counterfactual?.intensityGCo2PerKwh, 200);
    assert.equal(result.actual?.source, result.counterfactual?.source);
  });

  it('leaves the counterfactual out, with a reason, rather than mixing providers', async () => {
    const half = fake(
      'half',
      () => Promise.reject(new Error('unused')),
      (() => {
        let calls = 0;
        return () =>
          ++calls === 1
            ? Promise.resolve({ ...actual, intensityGCo2PerKwh: 42, basis: 'marginal' as const, source: 'half' })
            : Promise.reject(new CarbonProviderError('half', 'no-data', 'no history', false));
      })(),
    );
    const result = await measureRunWithFallback([half, traceProvider], actual, counterfactual);
    assert.equal(result.actual?.intensityGCo2PerKwh, 42);
    assert.equal(result.counterfactual, null);
    assert.match(result.reason ?? '', /no history/);
  });

  it('reports when no provider has a figure', async () => {
    const result = await measureRunWithFallback([failing('cas', 'timeout')], actual, null);
    assert.equal(result.actual, null);
    assert.match(result.reason ?? '', /no carbon figure/);
  });
});
