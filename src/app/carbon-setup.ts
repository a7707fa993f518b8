import { createConfiguredProviders } from '../carbon/configured-providers.js';
import type { CarbonProvider } from '../carbon/provider.js';
import { loadRegionsConfig, type RegionsConfig } from '../carbon/regions.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';

/** The regions file and the carbon providers, in the order they are tried, that the orchestrator plans with. */
export interface CarbonSetup {
  regions: RegionsConfig;
  carbonProviders: readonly CarbonProvider[];
}

/** Reads REGIONS_FILE and builds the providers CARBON_PROVIDERS names, unless the caller brings its own. */
export async function loadCarbonSetup(
  config: Config,
  logger: Logger,
  carbonProviders?: readonly CarbonProvider[],
): Promise<CarbonSetup> {
  const regions = await loadRegionsConfig(config.REGIONS_FILE);
  const providers = carbonProviders ?? (await createConfiguredProviders(config, regions, logger));
  logger.info('carbon providers', { providers: providers.map((p) => p.name), policy: config.PLACEMENT_POLICY });
  return { regions, carbonProviders: providers };
}
