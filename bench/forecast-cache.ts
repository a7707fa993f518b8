// Forecasts as the workflow would fetch them (one per hour, from the trace provider), and the true future.
import { HOUR_MS } from '../src/carbon/intensity-series.js';
import type { CarbonProvider, ZoneForecast } from '../src/carbon/provider.js';
import type { ZoneTrace } from '../src/carbon/trace-file.js';

/**
 * The trace provider's forecast only changes when an hour of data completes, so a forecast issued on the hour
 * serves every instant of that hour. The cache asks the provider at each hour start (its clock is set to it).
 */
export class HourlyForecasts {
  private readonly byHour = new Map<number, ZoneForecast[]>();

  constructor(
    private readonly provider: CarbonProvider,
    private readonly setClock: (ms: number) => void,
    private readonly zones: readonly string[],
    private readonly horizonMs: number,
  ) {}

  /** Makes sure forecasts for every hour in `[fromMs, toMs]` are ready; drops older ones. */
  async prepare(fromMs: number, toMs: number): Promise<void> {
    const first = Math.floor(fromMs / HOUR_MS);
    for (const hour of this.byHour.keys()) if (hour < first) this.byHour.delete(hour);
    for (let hour = first; hour <= Math.floor(toMs / HOUR_MS); hour += 1) {
      if (this.byHour.has(hour)) continue;
      const issuedAtMs = hour * HOUR_MS;
      this.setClock(issuedAtMs);
      const set = await this.provider.forecast({
        zones: this.zones,
        fromMs: issuedAtMs,
        toMs: issuedAtMs + this.horizonMs,
      });
      this.byHour.set(hour, set.forecasts);
    }
  }

  /** Forecast available at `atMs` (prepared beforehand). */
  at(atMs: number): ZoneForecast[] {
    const forecasts = this.byHour.get(Math.floor(atMs / HOUR_MS));
    if (!forecasts) throw new Error(`forecast for ${new Date(atMs).toISOString()} was not prepared`);
    return forecasts;
  }
}

/** The true intensities as a forecast: what the oracle sees. */
export function perfectForecast(trace: ZoneTrace, fromMs: number, toMs: number): ZoneForecast {
  const first = Math.floor((fromMs - trace.startMs) / trace.stepMs);
  const last = Math.min(trace.valuesGCo2PerKwh.length, Math.ceil((toMs - trace.startMs) / trace.stepMs));
  return {
    zone: trace.zone,
    basis: 'average',
    source: 'oracle',
    issuedAtMs: fromMs,
    startMs: trace.startMs + first * trace.stepMs,
    stepMs: trace.stepMs,
    valuesGCo2PerKwh: Array.from(trace.valuesGCo2PerKwh.subarray(first, last)),
  };
}
