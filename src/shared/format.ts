// How figures read to a person, in the CLI's tables and on the dashboard alike: one spelling per quantity. Pure.

/** Shown where a value is unknown or does not apply. */
export const NONE = '—';

type Maybe<T> = T | null | undefined;

const known = (value: Maybe<number>): value is number =>
  value !== null && value !== undefined && Number.isFinite(value);

/** `digits` significant digits; exponent notation only for magnitudes no unit makes readable. */
function significant(value: number, digits = 3): string {
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(digits));
  return Math.abs(rounded) >= 1e6 || Math.abs(rounded) < 1e-3 ? rounded.toExponential(digits - 1) : String(rounded);
}

/** Grams of CO2 in kg, g, mg or µg: a short run emits micrograms. */
export function formatGrams(grams: Maybe<number>): string {
  if (!known(grams)) return NONE;
  const size = Math.abs(grams);
  if (size >= 1000) return `${significant(grams / 1000)} kg`;
  if (size >= 1 || size === 0) return `${significant(grams)} g`;
  if (size >= 1e-3) return `${significant(grams * 1e3)} mg`;
  return `${significant(grams * 1e6)} µg`;
}

/** Energy in the unit that fits, e.g. `1.39 mWh`. */
export function formatEnergy(kwh: Maybe<number>): string {
  if (!known(kwh)) return NONE;
  const wh = kwh * 1000;
  const size = Math.abs(wh);
  if (size >= 1000) return `${significant(kwh)} kWh`;
  if (size >= 1 || size === 0) return `${significant(wh)} Wh`;
  if (size >= 1e-3) return `${significant(wh * 1e3)} mWh`;
  return `${significant(wh * 1e6)} µWh`;
}

/** Energy in kWh to four significant digits, where figures are compared in one unit (report, receipt detail). */
export function formatKwh(kwh: Maybe<number>): string {
  return known(kwh) ? `${significant(kwh, 4)} kWh` : NONE;
}

export function formatIntensity(gPerKwh: Maybe<number>): string {
  return known(gPerKwh) ? `${significant(gPerKwh, 4)} gCO₂/kWh` : NONE;
}

/** A fraction as a percentage with one decimal. */
export function formatPercent(fraction: Maybe<number>): string {
  return known(fraction) ? `${(fraction * 100).toFixed(1)} %` : NONE;
}

/** A score as Gradescope shows it: up to two decimals, no trailing zeros. */
export function formatScore(score: Maybe<number>): string {
  return known(score) ? String(Math.round(score * 100) / 100) : NONE;
}

/** A span as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 07 min`; negative spans keep their sign. */
export function formatDuration(ms: Maybe<number>): string {
  if (!known(ms)) return NONE;
  const sign = ms < 0 ? '−' : '';
  const size = Math.abs(ms);
  if (size < 1000) return `${sign}${Math.round(size)} ms`;
  if (size < 60_000) return `${sign}${significant(size / 1000)} s`;
  const totalSec = Math.round(size / 1000);
  if (totalSec < 3600) return `${sign}${Math.floor(totalSec / 60)} min ${pad(totalSec % 60)} s`;
  const totalMin = Math.round(totalSec / 60);
  return `${sign}${Math.floor(totalMin / 60)} h ${pad(totalMin % 60)} min`;
}

/** An instant in UTC to the second, `2025-03-01 14:05:09Z`: sortable and unambiguous. */
export function formatTime(at: Maybe<Date | number | string>): string {
  if (at === null || at === undefined) return NONE;
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return NONE;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** How long ago an instant was, relative to `nowMs`: `3 s ago`, `2 min 10 s ago`. */
export function formatAge(iso: string, nowMs: number): string {
  return `${formatDuration(Math.max(0, nowMs - Date.parse(iso)))} ago`;
}

/** Bytes in binary units: `512 MiB`, `7.8 GiB`. */
export function formatBytes(bytes: Maybe<number>): string {
  if (!known(bytes)) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Any value or the placeholder. */
export function orNone(value: Maybe<string | number>): string {
  return value === null || value === undefined ? NONE : String(value);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
