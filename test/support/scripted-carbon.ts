import {
  type ActualIntensityRequest,
  type CarbonProvider,
  CarbonProviderError,
  type ForecastRequest,
  type ForecastSet,
  type IntensityMeasurement,
} from '../../src/carbon/provider.js';

/** Intensity of a zone at an instant (epoch ms), in gCO2/kWh. */
export type IntensityScript = Record<string, (atMs: number) => number>;

/**
 * A typed fake carbon provider whose grid follows a script: it forecasts exactly what will happen, on
 * a seconds-long grid, so tests can wait for "greener hours" that are seconds away.
 */
export function scriptedProvider(name: string, script: IntensityScript, stepMs = 1000): CarbonProvider {
  const source = `scripted:${name}`;
  return {
    name,
    forecast(request: ForecastRequest): Promise<ForecastSet> {
      const startMs = Math.floor(request.fromMs / stepMs) * stepMs;
      const steps = Math.ceil((request.toMs - startMs) / stepMs) + 1;
      const forecasts = request.zones
        .filter((zone) => script[zone])
        .map((zone) => ({
          zone,
          basis: 'average' as const,
          source,
          issuedAtMs: Date.now(),
          startMs,
          stepMs,
          valuesGCo2PerKwh: Array.from({ length: steps }, (_, i) => script[zone]?.(startMs + i * stepMs) ?? 0),
        }));
      const missing = request.zones.filter((z) => !script[z]).map((zone) => ({ zone, reason: 'not scripted' }));
      return Promise.resolve({ provider: name, forecasts, missing });
    },
    actualIntensity(request: ActualIntensityRequest): Promise<IntensityMeasurement> {
      const at = script[request.zone];
      if (!at) return Promise.reject(new CarbonProviderError(name, 'no-data', `no script for ${request.zone}`, false));
      return Promise.resolve({
        ...request,
        intensityGCo2PerKwh: at((request.startMs + request.endMs) / 2),
        basis: 'average',
        source,
      });
    },
  };
}

/** A carbon API that is down: every call fails the way the given kind of fault does. */
export function failingProvider(name: string, retryable: boolean): CarbonProvider & { calls: number } {
  const provider = {
    name,
    calls: 0,
    forecast(): Promise<ForecastSet> {
      provider.calls += 1;
      return Promise.reject(
        new CarbonProviderError(name, retryable ? 'timeout' : 'rejected-request', 'down', retryable),
      );
    },
    actualIntensity(): Promise<IntensityMeasurement> {
      return Promise.reject(new CarbonProviderError(name, 'network', 'down', retryable));
    },
  };
  return provider;
}
