// The cas provider against a local server that replays the recorded answers of the C3Lab API.
//
// The contract these tests hold the client to (CONTRACT.md):
// * GET /carbon-aware-scheduler/ with a JSON body and `content-type: application/json` (POST gives 405).
// * `runtime` and `max_delay` are whole seconds, runtime ≥ 1; `start_time` is null (server now) or ISO with an
//   offset; unknown fields give 422; exactly one of candidate_locations / candidate_providers.
// * v2023-05: no `original_location`; carbon figures in kgCO2; delay in `details[r].start_delay[0]` seconds.
// * v2023-11: `candidate_providers`, no `original_location` (both other forms give 500).
// * HEAD: `original_location` required (500 `{"error": "None"}` without it).
// * Later versions: gCO2 with `carbon-emission-unit`; delay = compute_start − min_start.
// * azure is a marginal (WattTime) source. 422 and 400 are not worth retrying; 5xx, timeouts and garbage are.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { planPlacement } from '../../../src/scheduling/policies.js';
import { type CasProviderOptions, createCasProvider } from '../../../src/carbon/cas-provider.js';
import type { CasLocation } from '../../../src/carbon/cas-request.js';
import { type CasReplayServer, startCasReplayServer } from '../../support/cas-replay-server.js';
import { CarbonProviderError } from '../../../src/carbon/provider.js';
import { casLocationsByZone, loadRegionsConfig } from '../../../src/carbon/regions.js';

const NOW_MS = Date.parse('2023-05-24T21:57:30Z'); // the server's effective start is 22:00 (rounded up)
const START_MS = Date.parse('2023-05-24T22:00:00Z');
const RUN_MS = 900_000;
// Recorded sample 3 (kgCO2 over 0.00125 kWh): CAISO_NORTH, MISO_WORTHINGTON, PJM_NJ.
const CISO_G_PER_KWH = (3.463338696208333e-5 * 1000) / 0.00125;
const MISO_G_PER_KWH = (0.0007759209339858334 * 1000) / 0.00125;
const PJM_G_PER_KWH = (0.0007194199744918056 * 1000) / 0.00125;

let server: CasReplayServer;
let coarse: Map<string, CasLocation>;
let predefined: Map<string, CasLocation>;

before(async () => {
  server = await startCasReplayServer();
  const config = await loadRegionsConfig();
  coarse = casLocationsByZone(config, ['us-west', 'us-central', 'us-east']);
  predefined = casLocationsByZone(config, ['us-west.ucsd', 'us-central.sdstate', 'us-east.udel', 'us-east.atlanta']);
});
after(() => server.close());

function provider(overrides: Partial<CasProviderOptions> = {}) {
  return createCasProvider({
    url: server.url,
    version: 'v2023-05',
    locations: coarse,
    dataSource: 'azure',
    wattsPerCore: 5,
    coreCount: 1,
    timeoutMs: 2_000,
    now: () => NOW_MS,
    ...overrides,
  });
}

const zones = ['US-CAL-CISO', 'US-MIDW-MISO', 'US-MIDA-PJM'];
const request = { zones, fromMs: NOW_MS, toMs: NOW_MS + RUN_MS, runDurationMs: RUN_MS, homeZone: 'US-MIDA-PJM' };

async function failureOf(work: Promise<unknown>): Promise<CarbonProviderError> {
  const error = await work.then(
    () => assert.fail('expected a CarbonProviderError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof CarbonProviderError, String(error));
  return error;
}

describe('cas provider, v2023-05 (recorded samples)', () => {
  it('sends a GET with a JSON body as the contract asks', async () => {
    server.setMode('v2023-05');
    server.received.length = 0;
    await provider().forecast(request);
    const [sent] = server.received;
    assert.equal(sent?.method, 'GET');
    assert.equal(sent?.path, '/carbon-aware-scheduler/');
    assert.equal(sent?.contentType, 'application/json');
    assert.deepEqual(sent?.body, {
      runtime: 900,
      schedule: { type: 'onetime', start_time: null, max_delay: 0 },
      dataset: { input_size_gb: 0, output_size_gb: 0 },
      carbon_data_source: 'azure',
      use_prediction: true,
      watts_per_core: 5,
      core_count: 1,
      candidate_locations: [
        { id: 'Nautilus:us-west', latitude: 37.338208, longitude: -121.886329 },
        { id: 'Nautilus:us-central', latitude: 44.311357, longitude: -96.798388 },
        { id: 'Nautilus:us-east', latitude: 40.735657, longitude: -74.172367 },
      ],
    });
  });

  it('turns kgCO2 per 0.00125 kWh into marginal gCO2/kWh covering the run from now', async () => {
    server.setMode('v2023-05');
    const set = await provider().forecast(request);
    const byZone = new Map(set.forecasts.map((f) => [f.zone, f]));
    assert.ok(Math.abs((byZone.get('US-CAL-CISO')?.valuesGCo2PerKwh[0] ?? 0) - CISO_G_PER_KWH) < 1e-9);
    assert.ok(Math.abs((byZone.get('US-MIDW-MISO')?.valuesGCo2PerKwh[0] ?? 0) - MISO_G_PER_KWH) < 1e-9);
    assert.ok(Math.abs((byZone.get('US-MIDA-PJM')?.valuesGCo2PerKwh[0] ?? 0) - PJM_G_PER_KWH) < 1e-9);
    for (const forecast of set.forecasts) {
      assert.equal(forecast.basis, 'marginal');
      assert.equal(forecast.source, 'cas:azure@v2023-05');
      assert.ok(forecast.startMs <= NOW_MS && forecast.startMs + forecast.stepMs * 2 >= START_MS + RUN_MS);
    }
    const candidates = zones.map((zone) => ({
      id: zone,
      kind: 'k8s-region' as const,
      region: zone,
      zone,
      freeSlots: 1,
    }));
    const plan = planPlacement({
      policy: 'spatial',
      candidates,
      homeCandidateId: 'US-MIDA-PJM',
      nowMs: NOW_MS,
      deadlineMs: NOW_MS,
      estimatedDurationMs: RUN_MS,
      forecasts: set.forecasts,
    });
    assert.equal(plan.candidate.zone, 'US-CAL-CISO');
  });

  it('reads the predefined Azure regions of sample 1 the same way', async () => {
    server.setMode('v2023-05');
    const azure = new Map([
      ['US-MIDA-PJM', { id: 'Azure:eastus' }],
      ['US-CAL-CISO', { id: 'Azure:westus' }],
      ['US-MIDW-MISO', { id: 'Azure:centralus' }],
    ]);
    const set = await provider({ locations: azure }).forecast(request);
    const ciso = set.forecasts.find((f) => f.zone === 'US-CAL-CISO');
    assert.ok(Math.abs((ciso?.valuesGCo2PerKwh[0] ?? 0) - CISO_G_PER_KWH) < 1e-9);
  });

  it('reports the post-run raw-scores as returned (kgCO2) and in grams', async () => {
    server.setMode('v2023-05');
    server.received.length = 0;
    const { measurement, figures } = await provider().postRun({
      zone: 'US-CAL-CISO',
      startMs: START_MS,
      endMs: START_MS + RUN_MS,
    });
    const body = server.received[0]?.body as Record<string, unknown>;
    assert.deepEqual(body.schedule, { type: 'onetime', start_time: '2023-05-24T22:00:00+00:00', max_delay: 0 });
    assert.equal(body.use_prediction, false);
    assert.equal(figures.carbonUnitAsReturned, 'kgCO2');
    assert.equal(figures.rawScores['carbon-emission'], 3.463338696208333e-5);
    assert.ok(Math.abs(figures.computeEmissionsGCo2 - 0.03463338696208333) < 1e-12);
    assert.equal(figures.energyKwh, 0.00125);
    assert.ok(Math.abs(measurement.intensityGCo2PerKwh - CISO_G_PER_KWH) < 1e-9);
    assert.equal(measurement.basis, 'marginal');
  });
});

describe('cas provider, later versions', () => {
  it('v2023-11: asks by provider without an origin and reads gCO2, warnings become missing zones', async () => {
    server.setMode('v2023-11');
    server.received.length = 0;
    const zonesWithSoco = [...zones, 'US-SE-SOCO'];
    const set = await provider({ version: 'v2023-11', locations: predefined }).forecast({
      ...request,
      zones: zonesWithSoco,
    });
    const body = server.received[0]?.body as Record<string, unknown>;
    assert.deepEqual(body.candidate_providers, ['Nautilus']);
    assert.equal('original_location' in body, false);
    const ciso = set.forecasts.find((f) => f.zone === 'US-CAL-CISO');
    assert.ok(Math.abs((ciso?.valuesGCo2PerKwh.at(-1) ?? 0) - CISO_G_PER_KWH) < 1e-6);
    assert.deepEqual(set.missing, [{ zone: 'US-SE-SOCO', reason: 'Unknown azure region for iso SOCO' }]);
    assert.equal(ciso?.source, 'cas:azure@v2023-11');
  });

  it('rejects ad-hoc locations for v2023-11 at construction', () => {
    assert.throws(() => provider({ version: 'v2023-11' }), /predefined/);
  });

  it('HEAD: sends the home as original_location and reads the emission-rate series', async () => {
    server.setMode('head');
    server.received.length = 0;
    const set = await provider({ version: 'head' }).forecast(request);
    assert.equal((server.received[0]?.body as Record<string, unknown>).original_location, 'Nautilus:us-east');
    const pjm = set.forecasts.find((f) => f.zone === 'US-MIDA-PJM');
    assert.ok(pjm && Math.abs((pjm.valuesGCo2PerKwh.at(-1) ?? 0) - PJM_G_PER_KWH) < 1e-6);
    const { figures } = await provider({ version: 'head' }).postRun({
      zone: 'US-CAL-CISO',
      startMs: START_MS,
      endMs: START_MS + RUN_MS,
    });
    assert.equal(figures.carbonUnitAsReturned, 'gCO2');
    assert.equal(figures.generation, 'later');
    assert.ok(Math.abs(figures.totalEmissionsGCo2 - 0.03463338696208333) < 1e-12);
  });
});

describe('cas provider failures', () => {
  const cases = [
    { mode: 'error-500', kind: 'http-status', retryable: true, message: /HTTP 500: None/ },
    { mode: 'no-viable', kind: 'no-data', retryable: false, message: /No viable candidate/ },
    { mode: 'reject-422', kind: 'rejected-request', retryable: false, message: /original_location/ },
    { mode: 'garbage', kind: 'invalid-response', retryable: true, message: /not JSON/ },
    { mode: 'nan', kind: 'invalid-response', retryable: true, message: /not JSON/ },
    { mode: 'negative-emission', kind: 'invalid-response', retryable: true, message: /carbon-emission/ },
  ] as const;
  for (const { mode, kind, retryable, message } of cases) {
    it(`${mode} is a ${retryable ? 'retryable' : 'final'} ${kind}`, async () => {
      server.setMode(mode);
      const error = await failureOf(provider().forecast(request));
      assert.equal(error.kind, kind);
      assert.equal(error.retryable, retryable);
      assert.match(error.message, message);
    });
  }

  it('a slow answer times out', async () => {
    server.setMode('slow');
    const error = await failureOf(provider({ timeoutMs: 150 }).forecast(request));
    assert.equal(error.kind, 'timeout');
    assert.equal(error.retryable, true);
  });

  it('HEAD without an origin answers 500 {"error": "None"}, as recorded in the contract', async () => {
    server.setMode('head');
    const error = await failureOf(provider({ version: 'v2023-05' }).forecast(request));
    assert.equal(error.httpStatus, 500);
  });

  it('the replay server itself refuses POST with 405', async () => {
    const answer = await fetch(server.url, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(answer.status, 405);
    assert.deepEqual(await answer.json(), { message: 'The method is not allowed for the requested URL.' });
  });

  it('an unreachable server is a retryable network failure', async () => {
    const error = await failureOf(provider({ url: 'http://127.0.0.1:9/carbon-aware-scheduler/' }).forecast(request));
    assert.equal(error.kind, 'network');
  });
});
