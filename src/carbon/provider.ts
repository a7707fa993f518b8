// The one interface every carbon-intensity source implements. Pure declarations plus one error class:
// workflows may import this file (nothing here touches I/O).

/** `average`: consumption-based mix of the zone (Electricity Maps). `marginal`: rate of the marginal plant (WattTime). */
export type IntensityBasis = 'average' | 'marginal';

/**
 * Carbon intensity of one zone as a step function on a regular grid: value `i` holds over
 * `[startMs + i·stepMs, startMs + (i+1)·stepMs)`. Times are epoch milliseconds (UTC).
 */
export interface ZoneForecast {
  /** Carbon zone, e.g. `US-CAL-CISO`. */
  zone: string;
  /** Average and marginal figures are never compared or mixed. */
  basis: IntensityBasis;
  /** Who produced the numbers, e.g. `trace:daily-profile` or `cas:azure@v2023-05`. */
  source: string;
  /** When the forecast was made; no value in it used data from after this instant. */
  issuedAtMs: number;
  startMs: number;
  stepMs: number;
  valuesGCo2PerKwh: readonly number[];
}

export interface ForecastRequest {
  zones: readonly string[];
  /** Earliest instant the caller may start a run. */
  fromMs: number;
  /** Latest instant a run may still be going (deadline + run duration). */
  toMs: number;
  /** Expected run length; providers that optimise a window themselves (cas) need it. */
  runDurationMs?: number;
  /** Zone the run would use without carbon awareness (cas HEAD requires an `original_location`). */
  homeZone?: string;
}

/** A zone the provider could not forecast, with its reason. */
export interface MissingZone {
  zone: string;
  reason: string;
}

export interface ForecastSet {
  provider: string;
  forecasts: ZoneForecast[];
  missing: MissingZone[];
}

export interface ActualIntensityRequest {
  zone: string;
  startMs: number;
  endMs: number;
}

/** Time-weighted mean intensity over an interval that has happened. */
export interface IntensityMeasurement {
  zone: string;
  startMs: number;
  endMs: number;
  intensityGCo2PerKwh: number;
  basis: IntensityBasis;
  source: string;
}

export interface CarbonProvider {
  /** Short stable name recorded with every figure: `trace`, `cas`, ... */
  readonly name: string;
  /** Forecasts every zone it can; throws {@link CarbonProviderError} when it can forecast none. */
  forecast(request: ForecastRequest): Promise<ForecastSet>;
  /** Intensity over a past interval; throws {@link CarbonProviderError} when it has no figure. */
  actualIntensity(request: ActualIntensityRequest): Promise<IntensityMeasurement>;
}

/** What went wrong; `retryable` tells an activity's retry policy whether trying again can help. */
export type ProviderFailureKind =
  'timeout' | 'network' | 'http-status' | 'invalid-response' | 'rejected-request' | 'no-data';

/** Thrown when a carbon provider fails, times out or answers something we cannot trust. */
export class CarbonProviderError extends Error {
  override name = 'CarbonProviderError';
  constructor(
    readonly provider: string,
    readonly kind: ProviderFailureKind,
    message: string,
    readonly retryable: boolean,
    readonly httpStatus: number | null = null,
  ) {
    super(`${provider}: ${message}`);
  }
}
