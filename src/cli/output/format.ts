/** Shown in a human-readable cell when a value is unknown or does not apply. */
export const NONE = '-';

/** A timestamp as `2024-05-01 13:45:12Z` (UTC, to the second): sortable and unambiguous. */
export function formatTime(iso: string | null): string {
  if (iso === null) return NONE;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A duration in the largest unit that keeps it readable: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return NONE;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSec = Math.round(ms / 1000);
  if (totalSec < 3600) return `${Math.floor(totalSec / 60)} min ${String(totalSec % 60).padStart(2, '0')} s`;
  const totalMin = Math.round(totalSec / 60);
  return `${Math.floor(totalMin / 60)} h ${String(totalMin % 60).padStart(2, '0')} min`;
}

/** How long ago an instant was, relative to `nowMs`: `3 s ago`, `2 min 10 s ago`. */
export function formatAge(iso: string, nowMs: number): string {
  return `${formatDuration(Math.max(0, nowMs - Date.parse(iso)))} ago`;
}

/** A number with a fixed count of decimals, or the placeholder. */
export function formatNumber(value: number | null, decimals: number): string {
  return value === null ? NONE : value.toFixed(decimals);
}

/** A score as Gradescope shows it: up to two decimals, no trailing zeros. */
export function formatScore(value: number | null): string {
  return value === null ? NONE : String(Math.round(value * 100) / 100);
}

/** Grams of CO2 with enough significant digits for the tiny figures of a single run. */
export function formatGrams(value: number | null): string {
  return value === null ? NONE : `${significant(value)} g`;
}

/** Energy in kWh with enough significant digits for the tiny figures of a single run. */
export function formatKwh(value: number | null): string {
  return value === null ? NONE : `${significant(value)} kWh`;
}

/** A fraction as a percentage with one decimal. */
export function formatPercent(fraction: number | null): string {
  return fraction === null ? NONE : `${(fraction * 100).toFixed(1)} %`;
}

/** Bytes in binary units: `512 MiB`, `7.8 GiB`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Four significant digits without exponent noise for ordinary magnitudes. */
function significant(value: number): string {
  if (value === 0) return '0';
  return Number(value.toPrecision(4)).toString();
}

/** Any value or the placeholder. */
export function orNone(value: string | number | null): string {
  return value === null ? NONE : String(value);
}
