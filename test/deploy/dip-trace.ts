// A carbon trace that makes the `temporal` policy wait a known, short while: flat, except that every day the
// same time of day, starting a little after now, is much cleaner. The default forecast model (profile-blend)
// sees yesterday's dip at that time of day and predicts it for today, so a run plans to start exactly then.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const STEP_MS = 60_000;
const DAY_MS = 86_400_000;
const DIP_MS = 2 * 3_600_000;
const FLAT_GCO2 = '400';
const DIP_GCO2 = '50';

/**
 * Writes `<zone>_<year>.csv` into `dir`: two days of history and one of future at one-minute steps, with a two-hour
 * dip from the first whole second at least `leadMs` after `nowMs`. Returns that start (epoch ms). The steps are laid
 * out from the dip's start (a trace may start at any second), so the dip opens after the lead, not up to a minute on.
 */
export async function writeDipTrace(dir: string, zone: string, nowMs: number, leadMs: number): Promise<number> {
  const dipStartMs = Math.ceil((nowMs + leadMs) / 1000) * 1000;
  const firstMs = dipStartMs - Math.ceil((dipStartMs - (nowMs - 2 * DAY_MS)) / STEP_MS) * STEP_MS;
  const lastMs = nowMs + DAY_MS;
  const rows = ['timestamp,gco2_per_kwh'];
  for (let at = firstMs; at < lastMs; at += STEP_MS) {
    const sinceDip = (((at - dipStartMs) % DAY_MS) + DAY_MS) % DAY_MS;
    rows.push(`${new Date(at).toISOString().replace('.000Z', 'Z')},${sinceDip < DIP_MS ? DIP_GCO2 : FLAT_GCO2}`);
  }
  const year = new Date(firstMs).getUTCFullYear();
  await writeFile(path.join(dir, `${zone}_${String(year)}.csv`), `${rows.join('\n')}\n`);
  return dipStartMs;
}
