// Forecast error of every model on the 11 US traces, the table behind the default model's choice.
import { type ForecastModel, forecastModels } from '../src/carbon/forecast-models.js';
import type { ZoneTrace } from '../src/carbon/trace-file.js';
import { MAE_HORIZON_STEPS, measureMae } from './forecast-mae.js';

export interface MaeRow {
  model: string;
  /** Issued hourly from 2023-01-15 to the end of 2023, horizons 1–24 h, mean over zones, gCO2/kWh. */
  maeGCo2PerKwh: number;
  /** The same, issued January–June only and July–December only. */
  firstHalfMaeGCo2PerKwh: number;
  secondHalfMaeGCo2PerKwh: number;
  /** Horizon 1 h (the hour in progress), 6 h and 24 h. */
  byHorizonGCo2PerKwh: { h1: number; h6: number; h24: number };
}

const FROM_MS = Date.UTC(2023, 0, 15);
const MID_MS = Date.UTC(2023, 6, 1);
const TO_MS = Date.UTC(2024, 0, 1);
const round = (value: number) => Math.round(value * 10) / 10;

function meanOverZones(traces: ReadonlyMap<string, ZoneTrace>, model: ForecastModel, fromMs: number, toMs: number) {
  const runs = [...traces.values()].map((trace) =>
    measureMae(trace, model, { fromMs, toMs, horizonSteps: MAE_HORIZON_STEPS }),
  );
  const mean = (pick: (r: (typeof runs)[number]) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  return {
    all: mean((r) => r.meanGCo2PerKwh),
    h1: mean((r) => r.byHorizonGCo2PerKwh[0] ?? NaN),
    h6: mean((r) => r.byHorizonGCo2PerKwh[5] ?? NaN),
    h24: mean((r) => r.byHorizonGCo2PerKwh[23] ?? NaN),
  };
}

export function forecastMaeTable(traces: ReadonlyMap<string, ZoneTrace>): MaeRow[] {
  return Object.values(forecastModels).map((model) => {
    const year = meanOverZones(traces, model, FROM_MS, TO_MS);
    return {
      model: model.name,
      maeGCo2PerKwh: round(year.all),
      firstHalfMaeGCo2PerKwh: round(meanOverZones(traces, model, FROM_MS, MID_MS).all),
      secondHalfMaeGCo2PerKwh: round(meanOverZones(traces, model, MID_MS, TO_MS).all),
      byHorizonGCo2PerKwh: { h1: round(year.h1), h6: round(year.h6), h24: round(year.h24) },
    };
  });
}

export function formatMaeTable(rows: readonly MaeRow[]): string {
  const lines = [
    `Forecast MAE, gCO2/kWh, mean over ${'11 US zones'}, issued hourly 2023-01-15..2023-12-31, horizons 1-24 h:`,
    'model              all   Jan-Jun  Jul-Dec   1 h    6 h   24 h',
  ];
  for (const row of rows) {
    const cells = [
      row.maeGCo2PerKwh,
      row.firstHalfMaeGCo2PerKwh,
      row.secondHalfMaeGCo2PerKwh,
      row.byHorizonGCo2PerKwh.h1,
      row.byHorizonGCo2PerKwh.h6,
      row.byHorizonGCo2PerKwh.h24,
    ].map((value, i) => value.toFixed(1).padStart(i === 0 ? 5 : i < 3 ? 9 : 6));
    lines.push(`${row.model.padEnd(16)}${cells.join('')}`);
  }
  return lines.join('\n');
}
