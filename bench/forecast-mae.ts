// Mean absolute error of the non-peeking forecast models on a replayed trace.
import { type ForecastModel, knownHistory } from '../src/carbon/forecast-models.js';
import type { ZoneTrace } from '../src/carbon/trace-file.js';

export interface MaeOptions {
  /** First issue instant (leave room for the models' history). */
  fromMs: number;
  /** Issues stop before this instant. */
  toMs: number;
  /** Horizons 1..n intervals ahead; horizon 1 is the interval in progress at issue time. */
  horizonSteps: number;
}

export interface MaeResult {
  /** MAE per horizon, gCO2/kWh. */
  byHorizonGCo2PerKwh: number[];
  /** MAE over all horizons, gCO2/kWh. */
  meanGCo2PerKwh: number;
}

/** Issues a forecast at every interval boundary in `[fromMs, toMs)` and scores it against the trace. */
export function measureMae(trace: ZoneTrace, model: ForecastModel, options: MaeOptions): MaeResult {
  const { startMs, stepMs, valuesGCo2PerKwh: values } = trace;
  const sums = new Array<number>(options.horizonSteps).fill(0);
  const counts = new Array<number>(options.horizonSteps).fill(0);
  const firstIssue = startMs + Math.ceil((options.fromMs - startMs) / stepMs) * stepMs;
  for (let issuedAtMs = firstIssue; issuedAtMs < options.toMs; issuedAtMs += stepMs) {
    const history = knownHistory(trace, issuedAtMs);
    for (let h = 0; h < options.horizonSteps; h += 1) {
      const at = issuedAtMs + h * stepMs;
      const actual = values[(at - startMs) / stepMs];
      const predicted = model.predict(history, at);
      if (actual === undefined || predicted === undefined) continue;
      sums[h] = (sums[h] ?? 0) + Math.abs(predicted - actual);
      counts[h] = (counts[h] ?? 0) + 1;
    }
  }
  const byHorizon = sums.map((sum, h) => sum / Math.max(1, counts[h] ?? 0));
  const total =
    sums.reduce((a, b) => a + b, 0) /
    Math.max(
      1,
      counts.reduce((a, b) => a + b, 0),
    );
  return { byHorizonGCo2PerKwh: byHorizon, meanGCo2PerKwh: total };
}

export const MAE_HORIZON_STEPS = 24;
