// Region → carbon zone map, read from config/regions.json (see its $comment) and checked once at start-up.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { CasLocation } from './cas-request.js';

const regionSchema = z.strictObject({
  /** Electricity Maps zone id, which names the trace file (`<zone>_<year>.csv`). */
  zone: z.string().min(1),
  /** WattTime balancing authority the carbon API resolved for the site, for reference. */
  watttimeBa: z.string().optional(),
  /** How the carbon-aware scheduler API knows the region: a predefined id, or an ad-hoc id with coordinates. */
  cas: z
    .strictObject({
      id: z.string().regex(/^[^:]+:[^:]+$/, 'expected "<provider>:<region>"'),
      latitude: z.number().min(-90).max(90).optional(),
      longitude: z.number().min(-180).max(180).optional(),
    })
    .refine((cas) => (cas.latitude === undefined) === (cas.longitude === undefined), 'give both coordinates or none')
    .optional(),
  /** Free text: caveats such as a site whose coordinates point at another grid. */
  note: z.string().optional(),
});

const regionsConfigSchema = z.strictObject({
  $comment: z.string().optional(),
  regions: z.record(z.string().min(1), regionSchema),
});

/** The 11 US balancing areas with a 2023 hourly trace in the shared carbon-traces folder. */
export const US_TRACE_ZONES: readonly string[] = [
  'US-CAL-CISO',
  'US-MIDW-MISO',
  'US-MIDA-PJM',
  'US-TEX-ERCO',
  'US-NY-NYIS',
  'US-CENT-SWPP',
  'US-NE-ISNE',
  'US-SE-SOCO',
  'US-SW-PNM',
  'US-NW-PSCO',
  'US-FLA-FPL',
];

export type RegionsConfig = z.infer<typeof regionsConfigSchema>;
type RegionEntry = z.infer<typeof regionSchema>;

/** Thrown when the regions file is missing or does not match the schema. */
export class RegionsConfigError extends Error {
  override name = 'RegionsConfigError';
}

const DEFAULT_REGIONS_PATH = fileURLToPath(new URL('../../config/regions.json', import.meta.url));

export function parseRegionsConfig(data: unknown): RegionsConfig {
  const parsed = regionsConfigSchema.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new RegionsConfigError(`invalid regions config:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export async function loadRegionsConfig(path: string = DEFAULT_REGIONS_PATH): Promise<RegionsConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RegionsConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseRegionsConfig(JSON.parse(text));
  } catch (error) {
    if (error instanceof RegionsConfigError) throw error;
    throw new RegionsConfigError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

export interface ResolvedRegion {
  /** The config key that matched: the region itself or its coarse prefix. */
  matched: string;
  entry: RegionEntry;
}

/** Exact match first; an unknown `us-west.newsite` falls back to `us-west`. `null` when neither is configured. */
export function resolveRegion(config: RegionsConfig, region: string): ResolvedRegion | null {
  const exact = config.regions[region];
  if (exact) return { matched: region, entry: exact };
  const coarse = region.split('.')[0] ?? region;
  const fallback = config.regions[coarse];
  return fallback ? { matched: coarse, entry: fallback } : null;
}

/** Zone → CAS location for the given regions (the first region of each zone wins), for the cas provider. */
export function casLocationsByZone(config: RegionsConfig, regions: readonly string[]): Map<string, CasLocation> {
  const out = new Map<string, CasLocation>();
  for (const region of regions) {
    const resolved = resolveRegion(config, region);
    if (resolved?.entry.cas && !out.has(resolved.entry.zone)) out.set(resolved.entry.zone, resolved.entry.cas);
  }
  return out;
}

/** Every configured region of a zone, in file order. */
export function regionsOfZone(config: RegionsConfig, zone: string): string[] {
  return Object.entries(config.regions)
    .filter(([, entry]) => entry.zone === zone)
    .map(([region]) => region);
}
