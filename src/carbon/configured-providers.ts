import { existsSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { createCasProvider } from './cas-provider.js';
import { DEFAULT_FORECAST_MODEL, forecastModels } from './forecast-models.js';
import type { CarbonProvider } from './provider.js';
import { casLocationsByZone, type RegionsConfig } from './regions.js';
import { loadTraceDirectory, tracesDirFromEnv } from './trace-file.js';
import { createTraceProvider, replayShiftMs } from './trace-provider.js';

/** The provider names in CARBON_PROVIDERS, in order; `none` (an empty variable means the default) names none. */
export function carbonProviderNames(config: Pick<Config, 'CARBON_PROVIDERS'>): string[] {
  return config.CARBON_PROVIDERS.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none');
}

/**
 * The providers named in CARBON_PROVIDERS, in order. A provider that cannot be set up is left out with
 * a warning: the run then falls back to the next one, or goes ahead carbon-agnostic.
 */
export async function createConfiguredProviders(
  config: Config,
  regions: RegionsConfig,
  logger: Logger,
): Promise<CarbonProvider[]> {
  const names = carbonProviderNames(config);
  const providers: CarbonProvider[] = [];
  for (const name of names) {
    if (name === 'trace') {
      const dir = tracesDirFromEnv({ GG_CARBON_TRACES_DIR: config.GG_CARBON_TRACES_DIR });
      if (!existsSync(dir)) {
        logger.warn('trace provider disabled: no trace folder', { dir });
        continue;
      }
      const traces = await loadTraceDirectory(dir);
      const first = [...traces.values()][0];
      if (!first) {
        logger.warn('trace provider disabled: the trace folder is empty', { dir });
        continue;
      }
      // Live time is mapped onto the same weekday and hour of the trace year (a replay, not a forecast service).
      providers.push(
        createTraceProvider({
          traces,
          model: forecastModels[DEFAULT_FORECAST_MODEL],
          now: Date.now,
          timeShiftMs: replayShiftMs(Date.now(), first.startMs),
        }),
      );
    } else if (name === 'cas') {
      if (!config.CAS_URL) {
        logger.warn('cas provider disabled: CAS_URL is not set');
        continue;
      }
      providers.push(
        createCasProvider({
          url: config.CAS_URL,
          version: config.CAS_API_VERSION,
          locations: casLocationsByZone(regions, Object.keys(regions.regions)),
          dataSource: 'azure',
          wattsPerCore: config.WATTS_PER_CORE,
          coreCount: 1,
          timeoutMs: config.CAS_TIMEOUT_SEC * 1000,
          now: Date.now,
        }),
      );
    } else {
      throw new Error(`unknown carbon provider "${name}" in CARBON_PROVIDERS (known: trace, cas)`);
    }
  }
  return providers;
}
