// `cas` provider: the C3Lab carbon-aware scheduler API the original GreenGrader used (CONTRACT.md).
import { askCas } from './cas-exchange.js';
import { type CasLocation, buildCasRequest, isAdHoc } from './cas-request.js';
import type { CasInterpretation, CasRegionResult } from './cas-response.js';
import type { CasApiVersion, CasRawScores } from './cas-schemas.js';
import {
  type ActualIntensityRequest,
  type CarbonProvider,
  CarbonProviderError,
  type IntensityMeasurement,
  type MissingZone,
  type ZoneForecast,
} from './provider.js';

export interface CasProviderOptions {
  /** e.g. `https://cas-carbon-api-dev.nrp-nautilus.io/carbon-aware-scheduler/` (trailing slash). */
  url: string;
  version: CasApiVersion;
  /** Carbon zone → the CAS location that stands for it. */
  locations: ReadonlyMap<string, CasLocation>;
  dataSource: 'azure' | 'c3lab' | 'emap';
  wattsPerCore: number;
  coreCount: number;
  timeoutMs: number;
  now: () => number;
  /** Runtime asked about when the caller gives none. Default 300 s. */
  defaultRuntimeSec?: number;
  /** The azure forecast reaches about 24 h ahead; runtime + max_delay stay within this. Default 23 h. */
  maxWindowSec?: number;
  /** Post-run figures from history (`false`, default) or, as the original did, from the forecast (`true`). */
  postRunUsePrediction?: boolean;
}

/** The post-run `raw-scores` figures the original recorded, as returned and in grams. */
export interface CasPostRunFigures {
  regionId: string;
  generation: CasInterpretation['generation'];
  carbonUnitAsReturned: 'kgCO2' | 'gCO2';
  rawScores: CasRawScores;
  energyKwh: number;
  computeEmissionsGCo2: number;
  migrationEmissionsGCo2: number;
  totalEmissionsGCo2: number;
}

export interface CasProvider extends CarbonProvider {
  /** Asks about the run as it happened (single candidate, its real start and length), like the original. */
  postRun(request: ActualIntensityRequest): Promise<{ measurement: IntensityMeasurement; figures: CasPostRunFigures }>;
}

const SERVER_ROUNDING_MS = 5 * 60_000;

export function createCasProvider(options: CasProviderOptions): CasProvider {
  if (options.version === 'v2023-11' && [...options.locations.values()].some(isAdHoc)) {
    throw new Error('cas v2023-11 accepts only predefined location ids (ad-hoc locations without an origin give 500)');
  }
  const source = `cas:${options.dataSource}@${options.version}`;
  const common = {
    version: options.version,
    dataSource: options.dataSource,
    wattsPerCore: options.wattsPerCore,
    coreCount: options.coreCount,
  };

  const ask = (body: Record<string, unknown>) => askCas(options.url, body, options.timeoutMs);

  /**
   * Later versions send an hourly rate series; v2023-05 only the mean over the window it chose, which becomes a
   * one-step series. The server moves a "now" start up to the next 5 minutes: when the series starts that
   * little after the caller's start, its first value is taken to hold from one step earlier.
   */
  function toForecast(zone: string, region: CasRegionResult, answer: CasInterpretation, fromMs: number, now: number) {
    const series = region.intensitySeries;
    const steps = series.slice(1).map((point, i) => point.atMs - (series[i]?.atMs ?? 0));
    let startMs: number;
    let stepMs: number;
    let values: number[];
    if (series.length > 0 && steps.every((step) => step === steps[0])) {
      startMs = series[0]?.atMs ?? NaN;
      stepMs = steps[0] ?? answer.windowEndMs - startMs;
      values = series.map((point) => point.intensityGCo2PerKwh);
    } else if (region.meanIntensityGCo2PerKwh !== null) {
      startMs = region.startMs;
      stepMs = region.runtimeSec * 1000;
      values = [region.meanIntensityGCo2PerKwh];
    } else return null;
    const gapMs = startMs - Math.max(fromMs, now);
    if (gapMs > 0 && gapMs <= SERVER_ROUNDING_MS && values[0] !== undefined) {
      startMs -= stepMs;
      values = [values[0], ...values];
    }
    if (!(stepMs > 0)) return null;
    const forecast: ZoneForecast = {
      zone,
      basis: answer.basis,
      source,
      issuedAtMs: now,
      startMs,
      stepMs,
      valuesGCo2PerKwh: values,
    };
    return forecast;
  }

  const postRun: CasProvider['postRun'] = async ({ zone, startMs, endMs }) => {
    const location = options.locations.get(zone);
    if (!location) throw new CarbonProviderError('cas', 'no-data', `no CAS location for ${zone}`, false);
    const answer = await ask(
      buildCasRequest({
        ...common,
        runtimeSec: (endMs - startMs) / 1000,
        startMs,
        maxDelaySec: 0,
        locations: [location],
        originalLocationId: location.id,
        usePrediction: options.postRunUsePrediction ?? false,
      }),
    );
    const region = answer.regions.get(location.id);
    if (!region || region.meanIntensityGCo2PerKwh === null) {
      const why = answer.warnings[location.id] ?? 'not scored';
      throw new CarbonProviderError('cas', 'no-data', `${location.id}: ${why}`, false);
    }
    const measurement: IntensityMeasurement = {
      zone,
      startMs: region.startMs,
      endMs: region.startMs + region.runtimeSec * 1000,
      intensityGCo2PerKwh: region.meanIntensityGCo2PerKwh,
      basis: answer.basis,
      source,
    };
    const figures: CasPostRunFigures = {
      regionId: region.regionId,
      generation: answer.generation,
      carbonUnitAsReturned: answer.carbonUnit,
      rawScores: region.rawScores,
      energyKwh: region.energyKwh,
      computeEmissionsGCo2: region.computeEmissionsGCo2,
      migrationEmissionsGCo2: region.migrationEmissionsGCo2,
      totalEmissionsGCo2: region.totalEmissionsGCo2,
    };
    return { measurement, figures };
  };

  return {
    name: 'cas',
    async forecast(request) {
      const now = options.now();
      const runtimeSec = Math.max(
        1,
        Math.ceil((request.runDurationMs ?? (options.defaultRuntimeSec ?? 300) * 1000) / 1000),
      );
      const from = Math.max(request.fromMs, now);
      const maxWindowSec = options.maxWindowSec ?? 23 * 3600;
      const maxDelaySec = Math.max(0, Math.min(Math.floor((request.toMs - from) / 1000), maxWindowSec) - runtimeSec);
      const missing: MissingZone[] = [];
      const asked = request.zones.filter((zone) => {
        if (!options.locations.has(zone)) missing.push({ zone, reason: 'no CAS location configured' });
        return options.locations.has(zone);
      });
      if (asked.length === 0)
        throw new CarbonProviderError('cas', 'no-data', 'no requested zone has a CAS location', false);
      const home = request.homeZone === undefined ? undefined : options.locations.get(request.homeZone);
      const answer = await ask(
        buildCasRequest({
          ...common,
          runtimeSec,
          startMs: request.fromMs <= now + 60_000 ? null : request.fromMs,
          maxDelaySec,
          locations: asked.map((zone) => options.locations.get(zone) ?? { id: zone }),
          originalLocationId: home && asked.some((z) => options.locations.get(z) === home) ? home.id : null,
          usePrediction: true,
        }),
      );
      const forecasts: ZoneForecast[] = [];
      for (const zone of asked) {
        const id = options.locations.get(zone)?.id ?? '';
        const region = answer.regions.get(id);
        const forecast = region ? toForecast(zone, region, answer, request.fromMs, now) : null;
        if (forecast) forecasts.push(forecast);
        else missing.push({ zone, reason: answer.warnings[id] ?? `${id} was not scored` });
      }
      if (forecasts.length === 0) {
        const why = missing.map((m) => `${m.zone}: ${m.reason}`).join('; ');
        throw new CarbonProviderError('cas', 'no-data', `no zone scored (${why})`, false);
      }
      return { provider: 'cas', forecasts, missing };
    },
    actualIntensity: async (request) => (await postRun(request)).measurement,
    postRun,
  };
}
