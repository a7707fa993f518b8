import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { planPlacement } from '../../../src/scheduling/policies.js';
import { createCasProvider } from '../../../src/carbon/cas-provider.js';
import { type CasReplayServer, startCasReplayServer } from '../../support/cas-replay-server.js';
import { forecastWithFallback, measureRunWithFallback } from '../../../src/carbon/fallback-provider.js';
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

describe('forecast with fallback', () => {
  let server: CasReplayServer;
  before(async () => (server = await startCasReplayServer('error-500')));
  after(() => server.close());

  it('a cas API answering 500 falls back to the trace provider and says so', async () => {
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
    const result = await forecastWithFallback([cas, traceProvider], request);
    assert.equal(result.provider, 'trace');
    assert.equal(result.carbonAgnostic, false);
    assert.deepEqual(
      result.attempts.map((a) => [a.provider, a.ok, a.failure]),
      [
        ['cas', false, 'http-status'],
        ['trace', true, null],
      ],
    );
    assert.match(result.attempts[0]?.error ?? '', /HTTP 500/);
  });

  it('tries providers in order and stops at the first good answer', async () => {
    let calls = 0;
    const counting = fake('spare', () => {
      calls += 1;
      return Promise.reject(new Error('should not be asked'));
    });
    const result = await forecastWithFallback([failing('first', 'timeout'), traceProvider, counting], request);
    assert.equal(result.provider, 'trace');
    assert.equal(calls, 0);
  });

  it('treats nonsense (NaN, negative, empty) as a failure', async () => {
    const nonsense = fake('nonsense', () =>
      Promise.resolve({
        provider: 'nonsense',
        forecasts: [
          {
            zone: 'US-CAL-CISO',
            basis: 'average',
            source: 'x',
            issuedAtMs: NOW,
            startMs: NOW,
            stepMs: HOUR,
            valuesGCo2PerKwh: [NaN],
          },
        ],
        missing: [],
      }),
    );
    const empty = fake('empty', () => Promise.resolve({ provider: 'empty', forecasts: [], missing: [] }));
    const result = await forecastWithFallback([nonsense, empty, traceProvider], request);
    assert.equal(result.provider, 'trace');
    assert.deepEqual(
      result.attempts.map((a) => a.failure),
      ['invalid-response', 'invalid-response', null],
    );
  });

  it('does not wait for a provider that never answers', async () => {
    const hanging = fake('hanging', () => new Promise<ForecastSet>(() => undefined));
    const result = await forecastWithFallback([hanging, traceProvider], request, { timeoutMs: 50 });
    assert.equal(result.provider, 'trace');
    assert.equal(result.attempts[0]?.failure, 'timeout');
  });

  it('records a provider bug as unexpected and moves on', async () => {
    const buggy = fake('buggy', () => Promise.reject(new TypeError('x is undefined')));
    const result = await forecastWithFallback([buggy, traceProvider], request);
    assert.deepEqual(result.attempts[0], {
      provider: 'buggy',
      ok: false,
      failure: 'unexpected',
      error: 'x is undefined',
    });
  });

  it('when every provider fails the run goes ahead carbon-agnostic: home, now, with the reason', async () => {
    const result = await forecastWithFallback([failing('cas', 'http-status'), failing('trace', 'timeout')], request);
    assert.equal(result.carbonAgnostic, true);
    assert.match(result.reason ?? '', /cas \(cas: http-status happened\); trace \(trace: timeout happened\)/);
    const home = { id: 'home', kind: 'docker-node' as const, region: 'us-west', zone: 'US-CAL-CISO', freeSlots: 1 };
    const plan = planPlacement({
      policy: 'spatiotemporal',
      candidates: [home],
      homeCandidateId: 'home',
      nowMs: NOW,
      deadlineMs: NOW + 6 * HOUR,
      estimatedDurationMs: 600_000,
      forecasts: result.forecasts,
    });
    assert.equal(plan.startMs, NOW);
    assert.match(plan.fallbackReason ?? '', /carbon-agnostic/);
  });

  it('an empty provider list is carbon-agnostic too', async () => {
    const result = await forecastWithFallback([], request);
    assert.equal(result.reason, 'no carbon provider configured');
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
