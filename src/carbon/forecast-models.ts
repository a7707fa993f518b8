// Forecasts that never peek: a model only sees intervals that had ended when the forecast was issued.
//
// Measured on the 11 US traces of 2023 (`npm run bench:carbon` prints this table): issued every hour from
// 2023-01-15, horizons 1–24 h (1 h = the hour in progress), mean absolute error in gCO2/kWh, mean over zones:
//   model             all   Jan–Jun  Jul–Dec   1 h   6 h   24 h
//   last-value        51.3   49.9     52.5    12.8  48.7  46.5
//   persistence-24h   46.5   47.2     45.8    46.5  46.5  46.5
//   persistence-168h  61.5   63.3     59.9    61.5  61.5  61.4
//   daily-profile     45.6   46.6     44.7    45.6  45.6  45.6
//   profile-blend     35.8   36.2     35.5    10.3  32.2  42.5   ← default
// The blend's two knobs come from a small grid (3–14 days × decay 0.80–0.97) scored on January–June only:
// 10 days × 0.95 scored 36.16 there (grid best 36.12 at 14 × 0.97) and 35.53 on July–December (grid best 35.14).
// Decisions agree with the errors: replaying one submission in ten with the spatiotemporal policy at 24 h of
// slack, the blend saves 52.3 % against home, daily-profile 50.4 %, persistence-24h 44.1 %, last-value 41.6 %
// (the oracle: 55.5 %).
import type { ZoneTrace } from './trace-file.js';

/** The part of a trace a forecast may read. */
export interface KnownHistory {
  readonly stepMs: number;
  /** Start of the latest interval that had ended at issue time (`NaN` when none had). */
  readonly lastKnownStartMs: number;
  /** Value of an interval that had ended at issue time, else `undefined` (future, or before the data). */
  valueAt(intervalStartMs: number): number | undefined;
}

export type ForecastModelName =
  'last-value' | 'persistence-24h' | 'persistence-168h' | 'daily-profile' | 'profile-blend';

export interface ForecastModel {
  readonly name: ForecastModelName;
  readonly description: string;
  /** Forecast of the interval starting at `intervalStartMs` (after the last known one), or `undefined`. */
  predict(history: KnownHistory, intervalStartMs: number): number | undefined;
}

const DAY_MS = 86_400_000;

/** Exposes only the intervals of `trace` that ended at or before `issuedAtMs`. */
export function knownHistory(trace: ZoneTrace, issuedAtMs: number): KnownHistory {
  const { startMs, stepMs, valuesGCo2PerKwh: values } = trace;
  const lastIndex = Math.min(values.length - 1, Math.floor((issuedAtMs - startMs) / stepMs) - 1);
  return {
    stepMs,
    lastKnownStartMs: lastIndex >= 0 ? startMs + lastIndex * stepMs : NaN,
    valueAt(intervalStartMs) {
      const index = (intervalStartMs - startMs) / stepMs;
      return Number.isInteger(index) && index >= 0 && index <= lastIndex ? values[index] : undefined;
    },
  };
}

/** The most recent known value at the same offset modulo `periodMs` before `intervalStartMs`. */
function seasonalNaive(history: KnownHistory, intervalStartMs: number, periodMs: number): number | undefined {
  const periods = Math.max(1, Math.ceil((intervalStartMs - history.lastKnownStartMs) / periodMs));
  return history.valueAt(intervalStartMs - periods * periodMs);
}

/** Mean of the `days` most recent known values at the same time of day as `intervalStartMs`. */
function dailyProfile(history: KnownHistory, intervalStartMs: number, days: number): number | undefined {
  const first = Math.max(1, Math.ceil((intervalStartMs - history.lastKnownStartMs) / DAY_MS));
  let sum = 0;
  let count = 0;
  for (let k = first; k < first + days; k += 1) {
    const value = history.valueAt(intervalStartMs - k * DAY_MS);
    if (value !== undefined) {
      sum += value;
      count += 1;
    }
  }
  return count > 0 ? sum / count : undefined;
}

const lastValueModel: ForecastModel = {
  name: 'last-value',
  description: 'the latest known value, held flat',
  predict: (history) => history.valueAt(history.lastKnownStartMs),
};

const persistence24hModel: ForecastModel = {
  name: 'persistence-24h',
  description: 'the value at the same time of day on the latest known day',
  predict: (history, at) => seasonalNaive(history, at, DAY_MS),
};

const persistence168hModel: ForecastModel = {
  name: 'persistence-168h',
  description: 'the value at the same time of week on the latest known week',
  predict: (history, at) => seasonalNaive(history, at, 7 * DAY_MS),
};

const dailyProfileModel: ForecastModel = {
  name: 'daily-profile',
  description: 'mean of the last 7 known days at the same time of day',
  predict: (history, at) => dailyProfile(history, at, 7),
};

interface ProfileBlendOptions {
  /** Days averaged into the time-of-day profile. */
  days: number;
  /** Share of the latest anomaly (latest value minus its profile) kept per hour of horizon. */
  anomalyDecayPerHour: number;
}

/**
 * Profile plus decaying anomaly: `profile(t) + (last − profile(last)) · decay^(hours from last to t)`.
 * Near the present it follows the latest value; further out it relaxes to the recent daily shape.
 */
function createProfileBlendModel(options: ProfileBlendOptions): ForecastModel {
  return {
    name: 'profile-blend',
    description: `${options.days}-day time-of-day profile plus the latest anomaly decaying ×${options.anomalyDecayPerHour}/h`,
    predict(history, at) {
      const last = history.valueAt(history.lastKnownStartMs);
      const profile = dailyProfile(history, at, options.days);
      const lastProfile = dailyProfile(history, history.lastKnownStartMs, options.days);
      if (last === undefined) return undefined;
      if (profile === undefined || lastProfile === undefined) return last;
      const hours = (at - history.lastKnownStartMs) / 3_600_000;
      return Math.max(0, profile + (last - lastProfile) * options.anomalyDecayPerHour ** hours);
    },
  };
}

export const profileBlendModel = createProfileBlendModel({ days: 10, anomalyDecayPerHour: 0.95 });

export const forecastModels: Readonly<Record<ForecastModelName, ForecastModel>> = {
  'last-value': lastValueModel,
  'persistence-24h': persistence24hModel,
  'persistence-168h': persistence168hModel,
  'daily-profile': dailyProfileModel,
  'profile-blend': profileBlendModel,
};

/** The model used unless configured otherwise: lowest measured error (see the file header). */
export const DEFAULT_FORECAST_MODEL: ForecastModelName = 'profile-blend';
