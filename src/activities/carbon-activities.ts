import { ApplicationFailure } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import { accountRun, counterfactualInterval } from '../carbon/accounting.js';
import type { CasPostRunFigures, CasProvider } from '../carbon/cas-provider.js';
import { checkForecastSet, measureRunWithFallback } from '../carbon/fallback-provider.js';
import {
  type CarbonProvider,
  CarbonProviderError,
  type ForecastRequest,
  type ForecastSet,
} from '../carbon/provider.js';
import { resolveRegion, type RegionsConfig } from '../carbon/regions.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { gradingRuns } from '../db/schema.js';
import { activityLogger } from '../observability/activity-logger.js';
import { countRunCarbon } from '../observability/metrics.js';
import { CARBON_PROVIDER_ERROR } from '../shared/grading-types.js';

export function createCarbonActivities(
  db: Database,
  config: Config,
  regions: RegionsConfig,
  providers: readonly CarbonProvider[],
) {
  // Built once, sent by name (every run's receipt): only what the receipt needs, since the row also holds the
  // grader's output and results.json (up to MiBs each).
  const receiptRead = db
    .select({
      containerStartedAt: gradingRuns.containerStartedAt,
      containerFinishedAt: gradingRuns.containerFinishedAt,
      region: gradingRuns.region,
      carbonZone: gradingRuns.carbonZone,
      receivedAt: gradingRuns.receivedAt,
      cpuTimeMs: gradingRuns.cpuTimeMs,
    })
    .from(gradingRuns)
    .where(eq(gradingRuns.id, sql.placeholder('runId')))
    .prepare('account_carbon_read');
  return {
    /**
     * One provider's forecast. Failures carry the provider's own verdict on retrying: a timeout is
     * retried by the activity's retry policy, a rejected request is not; the workflow then tries the next.
     */
    async forecastCarbon(input: { provider: string; request: ForecastRequest }): Promise<ForecastSet> {
      const provider = providers.find((p) => p.name === input.provider);
      if (!provider) {
        throw ApplicationFailure.nonRetryable(`carbon provider ${input.provider} is not set up`, CARBON_PROVIDER_ERROR);
      }
      try {
        return checkForecastSet(provider.name, await provider.forecast(input.request));
      } catch (error) {
        if (!(error instanceof CarbonProviderError)) throw error;
        activityLogger({ provider: provider.name }).warn('carbon forecast failed', { error, kind: error.kind });
        throw ApplicationFailure.create({
          type: CARBON_PROVIDER_ERROR,
          message: `${error.kind}: ${error.message}`,
          nonRetryable: !error.retryable,
        });
      }
    },

    /**
     * The run's carbon receipt: energy from its measured CPU time and memory, emissions at the intensity
     * of its real interval in its real zone, and what immediate-home (home region, on arrival) would have
     * emitted, both from the same provider so that average and marginal figures never mix.
     */
    async accountCarbon(input: {
      runId: string;
    }): Promise<{ emissionsGCo2: number | null; savingGCo2: number | null }> {
      const [run] = await receiptRead.execute({ runId: input.runId });
      if (!run?.containerStartedAt || !run.containerFinishedAt || !run.region) {
        return { emissionsGCo2: null, savingGCo2: null }; // nothing ran: nothing to account
      }
      const startMs = run.containerStartedAt.getTime();
      const endMs = Math.max(run.containerFinishedAt.getTime(), startMs + 1);
      const wallTimeSec = (endMs - startMs) / 1000;
      const zone = run.carbonZone ?? resolveRegion(regions, run.region)?.entry.zone ?? `unmapped:${run.region}`;
      const homeZone = resolveRegion(regions, config.HOME_REGION)?.entry.zone ?? null;
      const home = counterfactualInterval(run.receivedAt.getTime(), wallTimeSec);
      const measured = await measureRunWithFallback(
        providers,
        { zone, startMs, endMs },
        homeZone ? { zone: homeZone, ...home } : null,
      );
      const casPostRun = await askCasAfterRun(providers, measured.actual?.source, { zone, startMs, endMs });
      const receipt = accountRun({
        usage: { cpuTimeSec: (run.cpuTimeMs ?? 0) / 1000, wallTimeSec, memoryGb: config.GRADER_MEMORY_BYTES / 1e9 },
        power: { wattsPerCore: config.WATTS_PER_CORE, wattsPerMemoryGb: config.WATTS_PER_MEMORY_GB, pue: 1 },
        actual: measured.actual,
        counterfactual: measured.counterfactual,
        casPostRun,
      });
      const notes = [...receipt.notes];
      if (run.cpuTimeMs === null) notes.push('CPU time was not measured: energy counts memory only');
      if (measured.reason) notes.push(measured.reason);
      if (!homeZone) notes.push(`home region ${config.HOME_REGION} has no carbon zone: no counterfactual`);
      await db
        .update(gradingRuns)
        .set({
          energyKwh: receipt.energyKwh,
          emissionsGCo2: receipt.actual?.emissionsGCo2 ?? null,
          intensityGCo2PerKwh: receipt.actual?.intensityGCo2PerKwh ?? null,
          intensityBasis: receipt.actual?.basis ?? null,
          intensitySource: receipt.actual?.source ?? null,
          counterfactualEmissionsGCo2: receipt.counterfactual?.emissionsGCo2 ?? null,
          savingGCo2: receipt.savingGCo2,
          carbonReceipt: { ...receipt, notes, providerAttempts: measured.attempts },
        })
        .where(eq(gradingRuns.id, input.runId));
      countRunCarbon(receipt);
      activityLogger({ runId: input.runId }).info('carbon accounted', {
        zone,
        source: receipt.actual?.source ?? null,
        emissionsGCo2: receipt.actual?.emissionsGCo2 ?? null,
        savingGCo2: receipt.savingGCo2,
        notes,
      });
      return { emissionsGCo2: receipt.actual?.emissionsGCo2 ?? null, savingGCo2: receipt.savingGCo2 };
    },
  };
}

/** The original's post-run question to the carbon API, when the figures came from it. */
async function askCasAfterRun(
  providers: readonly CarbonProvider[],
  source: string | undefined,
  interval: { zone: string; startMs: number; endMs: number },
): Promise<CasPostRunFigures | null> {
  const cas = providers.find((p): p is CasProvider => p.name === 'cas' && 'postRun' in p);
  if (!cas || !source?.startsWith('cas:')) return null;
  try {
    return (await cas.postRun(interval)).figures;
  } catch {
    return null; // the receipt's emissions already come from the same API; these figures are extra
  }
}

export type CarbonActivities = ReturnType<typeof createCarbonActivities>;
