// `trace` provider: replays per-zone CSV traces, forecasting with a model that sees only the past.
import { type ForecastModel, knownHistory } from './forecast-models.js';
import { meanIntensityOver } from './intensity-series.js';
import {
  type CarbonProvider,
  CarbonProviderError,
  type ForecastSet,
  type IntensityBasis,
  type MissingZone,
  type ZoneForecast,
} from './provider.js';
import type { ZoneTrace } from './trace-file.js';

export interface TraceProviderOptions {
  traces: ReadonlyMap<string, ZoneTrace>;
  model: ForecastModel;
  /** The provider's clock (epoch ms): simulated time in a replay, `Date.now` in a live dev setup. */
  now: () => number;
  /** How far past `now` it forecasts; longer requests get a shorter forecast. Default 48 h. */
  horizonMs?: number;
  /** Trace time = real time − shift; see {@link replayShiftMs}. Default 0. */
  timeShiftMs?: number;
  /** Electricity Maps exports are average intensity; default `average`. */
  basis?: IntensityBasis;
}

const WEEK_MS = 7 * 86_400_000;
const DEFAULT_HORIZON_MS = 48 * 3_600_000;

/** A whole number of 52-week years, so that `nowMs − shift` falls in the trace's first 364 days on the same weekday and hour. */
export function replayShiftMs(nowMs: number, traceStartMs: number): number {
  const year = 52 * WEEK_MS;
  return Math.floor((nowMs - traceStartMs) / year) * year;
}

export function createTraceProvider(options: TraceProviderOptions): CarbonProvider {
  const shift = options.timeShiftMs ?? 0;
  const horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
  const basis = options.basis ?? 'average';
  const source = `trace:${options.model.name}`;

  function forecastZone(trace: ZoneTrace, issuedAtMs: number, fromMs: number, toMs: number): ZoneForecast | string {
    const { startMs, stepMs, valuesGCo2PerKwh: values } = trace;
    const issued = issuedAtMs - shift;
    const end = Math.min(toMs, issuedAtMs + horizonMs) - shift;
    const first = Math.max(0, Math.floor((fromMs - shift - startMs) / stepMs));
    const last = Math.min(values.length, Math.ceil((end - startMs) / stepMs));
    if (last <= first) return `no trace data or forecast horizon for ${new Date(fromMs).toISOString()}`;
    const history = knownHistory(trace, issued);
    const predicted: number[] = [];
    for (let index = first; index < last; index += 1) {
      const at = startMs + index * stepMs;
      const value = at + stepMs <= issued ? values[index] : options.model.predict(history, at);
      if (value === undefined || !Number.isFinite(value)) break;
      predicted.push(value);
    }
    if (predicted.length === 0) return `${options.model.name} has no history to forecast from`;
    return {
      zone: trace.zone,
      basis,
      source,
      issuedAtMs,
      startMs: startMs + first * stepMs + shift,
      stepMs,
      valuesGCo2PerKwh: predicted,
    };
  }

  return {
    name: 'trace',
    forecast(request) {
      const issuedAtMs = options.now();
      const forecasts: ZoneForecast[] = [];
      const missing: MissingZone[] = [];
      for (const zone of request.zones) {
        const trace = options.traces.get(zone);
        const result = trace ? forecastZone(trace, issuedAtMs, request.fromMs, request.toMs) : `no trace for ${zone}`;
        if (typeof result === 'string') missing.push({ zone, reason: result });
        else forecasts.push(result);
      }
      if (forecasts.length === 0) {
        const reasons = missing.map((m) => `${m.zone}: ${m.reason}`).join('; ');
        return Promise.reject(new CarbonProviderError('trace', 'no-data', `no zone forecastable (${reasons})`, false));
      }
      const result: ForecastSet = { provider: 'trace', forecasts, missing };
      return Promise.resolve(result);
    },
    actualIntensity({ zone, startMs, endMs }) {
      const trace = options.traces.get(zone);
      const mean = trace ? meanIntensityOver(trace, startMs - shift, endMs - shift) : null;
      if (mean === null) {
        const why = trace ? 'interval outside the trace' : 'no trace for the zone';
        return Promise.reject(new CarbonProviderError('trace', 'no-data', `${zone}: ${why}`, false));
      }
      return Promise.resolve({ zone, startMs, endMs, intensityGCo2PerKwh: mean, basis, source: `trace:${zone}` });
    },
  };
}
