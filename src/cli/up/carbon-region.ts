// Which grid `up`'s own node draws from: a region of config/regions.json, so its runs get carbon figures.
import type { CarbonProvider } from '../../carbon/provider.js';
import { loadRegionsConfig, type RegionsConfig, resolveRegion } from '../../carbon/regions.js';
import { CliError, USAGE_EXIT_CODE } from '../errors.js';

/** CAISO: the cleanest on average (261 g/kWh in 2023) of the original deployment's three regions. */
export const DEFAULT_UP_REGION = 'us-west';

export interface UpRegion {
  region: string;
  zone: string;
  /** NODE_REGION for the node worker and, unless the environment sets one, HOME_REGION (the counterfactual). */
  env: { NODE_REGION: string; HOME_REGION: string };
}

/** `--region`, else NODE_REGION, else us-west; a region that maps to no carbon zone is refused, naming the known ones. */
export async function chooseUpRegion(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): Promise<UpRegion> {
  const region = flag || env.NODE_REGION || DEFAULT_UP_REGION;
  const regions = await loadRegionsConfig(env.REGIONS_FILE || undefined);
  const resolved = resolveRegion(regions, region);
  if (!resolved) {
    throw new CliError(
      `region "${region}" has no carbon zone in ${env.REGIONS_FILE || 'config/regions.json'} ` +
        `(known: ${knownRegions(regions)}); pick one with --region or add it there`,
      USAGE_EXIT_CODE,
    );
  }
  return { region, zone: resolved.entry.zone, env: { NODE_REGION: region, HOME_REGION: env.HOME_REGION || region } };
}

function knownRegions(regions: RegionsConfig): string {
  return Object.keys(regions.regions)
    .filter((name) => !name.includes('.'))
    .join(', ');
}

/**
 * One line on where this node's carbon figures come from, checked by asking each provider for the next hour:
 * a newcomer learns at start whether receipts will carry grams, and what to set when they will not.
 */
export async function describeCarbonSource(
  upRegion: UpRegion,
  providers: readonly CarbonProvider[],
  nowMs: number,
): Promise<string> {
  const where = `${upRegion.region} → ${upRegion.zone}`;
  const failures: string[] = [];
  for (const provider of providers) {
    try {
      const set = await provider.forecast({ zones: [upRegion.zone], fromMs: nowMs, toMs: nowMs + 3_600_000 });
      const forecast = set.forecasts.find((f) => f.zone === upRegion.zone);
      if (forecast) return `${where}, ${forecast.basis} intensity from ${provider.name} (${forecast.source})`;
      failures.push(`${provider.name}: no data for ${upRegion.zone}`);
    } catch (error) {
      failures.push(`${provider.name}: ${(error as Error).message}`);
    }
  }
  const why = providers.length === 0 ? 'no carbon provider is configured' : failures.join('; ');
  return `${where}, NO FIGURES (${why}): set GG_CARBON_TRACES_DIR to a folder of <ZONE>_<YEAR>.csv traces or CAS_URL (README, "Carbon on up")`;
}
