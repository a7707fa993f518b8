// How figures read on the dashboard: three significant digits with a unit that keeps them readable. Pure.

const DASH = '—';

function significant(value: number, digits = 3): string {
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(digits));
  return Math.abs(rounded) >= 1e6 || Math.abs(rounded) < 1e-3 ? rounded.toExponential(digits - 1) : String(rounded);
}

/** Grams of CO2 in kg, g, mg or µg: a short run emits micrograms. */
export function formatGrams(grams: number | null | undefined): string {
  if (grams === null || grams === undefined || !Number.isFinite(grams)) return DASH;
  const size = Math.abs(grams);
  if (size >= 1000) return `${significant(grams / 1000)} kg`;
  if (size >= 1 || size === 0) return `${significant(grams)} g`;
  if (size >= 1e-3) return `${significant(grams * 1e3)} mg`;
  return `${significant(grams * 1e6)} µg`;
}

/** Energy with its kWh figure, e.g. `1.39 mWh`; the receipt also shows the exact kWh. */
export function formatEnergy(kwh: number | null | undefined): string {
  if (kwh === null || kwh === undefined || !Number.isFinite(kwh)) return DASH;
  const wh = kwh * 1000;
  const size = Math.abs(wh);
  if (size >= 1000) return `${significant(kwh)} kWh`;
  if (size >= 1 || size === 0) return `${significant(wh)} Wh`;
  if (size >= 1e-3) return `${significant(wh * 1e3)} mWh`;
  return `${significant(wh * 1e6)} µWh`;
}

export function formatKwh(kwh: number | null | undefined): string {
  return kwh === null || kwh === undefined || !Number.isFinite(kwh) ? DASH : `${kwh.toExponential(3)} kWh`;
}

export function formatIntensity(gPerKwh: number | null | undefined): string {
  return gPerKwh === null || gPerKwh === undefined || !Number.isFinite(gPerKwh)
    ? DASH
    : `${significant(gPerKwh, 4)} gCO₂/kWh`;
}

export function formatPercent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined || !Number.isFinite(fraction)
    ? DASH
    : `${significant(fraction * 100)} %`;
}

export function formatScore(score: number | null | undefined): string {
  return score === null || score === undefined ? DASH : String(Number(score.toFixed(4)));
}

/** A span as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 07 min`; negative spans keep their sign. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const sign = ms < 0 ? '−' : '';
  const size = Math.abs(ms);
  if (size < 1000) return `${sign}${Math.round(size)} ms`;
  if (size < 60_000) return `${sign}${significant(size / 1000)} s`;
  const totalSec = Math.round(size / 1000);
  if (totalSec < 3600) return `${sign}${Math.floor(totalSec / 60)} min ${pad(totalSec % 60)} s`;
  const totalMin = Math.round(totalSec / 60);
  return `${sign}${Math.floor(totalMin / 60)} h ${pad(totalMin % 60)} min`;
}

/** UTC, to the second: `2025-03-01 14:05:09 UTC`. */
export function formatTime(at: Date | number | null | undefined): string {
  if (at === null || at === undefined) return DASH;
  const date = typeof at === 'number' ? new Date(at) : at;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
