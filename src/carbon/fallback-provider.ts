// Ordered carbon providers: the first good answer wins; when none answers, the run goes ahead carbon-agnostic.
// Forecasts go provider by provider, one activity each (forecastInOrder in src/workflows/plan-and-wait.ts), every
// answer checked by checkForecastSet; a run's measurement goes through the chain below. Each makes one attempt per
// provider and records what failed and why. Grading never waits on a carbon API.
import {
  type ActualIntensityRequest,
  type CarbonProvider,
  CarbonProviderError,
  type ForecastSet,
  type IntensityMeasurement,
  type ProviderFailureKind,
} from './provider.js';

export interface ProviderAttempt {
  provider: string;
  ok: boolean;
  /** `unexpected` is a bug in the provider, not an answer from its source. */
  failure: ProviderFailureKind | 'unexpected' | null;
  error: string | null;
}

export interface FallbackOptions {
  /** Guard per provider call, for providers without their own timeout. Default 15 s. */
  timeoutMs?: number;
}

/** Records any thrown value as an attempt; provider errors keep their kind. */
function describeFailure(provider: string, error: unknown): ProviderAttempt {
  if (error instanceof CarbonProviderError) return { provider, ok: false, failure: error.kind, error: error.message };
  return { provider, ok: false, failure: 'unexpected', error: error instanceof Error ? error.message : String(error) };
}

/** Rejects answers that are nonsense whatever the provider: empty, non-finite, negative or zero-step series. */
export function checkForecastSet(provider: string, set: ForecastSet): ForecastSet {
  const broken = set.forecasts.find(
    (f) =>
      !(f.stepMs > 0) ||
      !Number.isFinite(f.startMs) ||
      f.valuesGCo2PerKwh.length === 0 ||
      f.valuesGCo2PerKwh.some((v) => !Number.isFinite(v) || v < 0),
  );
  if (set.forecasts.length === 0 || broken) {
    const what = broken ? `an unusable series for ${broken.zone}` : 'no forecast';
    throw new CarbonProviderError(provider, 'invalid-response', `answered ${what}`, true);
  }
  return set;
}

function withTimeout<T>(provider: string, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CarbonProviderError(provider, 'timeout', `no answer within ${timeoutMs} ms`, true)),
      timeoutMs,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface RunMeasurement {
  actual: IntensityMeasurement | null;
  /** Same provider as `actual`, so both share one basis; `null` with a reason otherwise. */
  counterfactual: IntensityMeasurement | null;
  attempts: ProviderAttempt[];
  reason: string | null;
}

/** Intensity of the run's real interval and of its immediate-home counterfactual, both from one provider. */
export async function measureRunWithFallback(
  providers: readonly CarbonProvider[],
  actual: ActualIntensityRequest,
  counterfactual: ActualIntensityRequest | null,
  options: FallbackOptions = {},
): Promise<RunMeasurement> {
  const attempts: ProviderAttempt[] = [];
  const timeoutMs = options.timeoutMs ?? 15_000;
  for (const provider of providers) {
    let measured: IntensityMeasurement;
    try {
      measured = await withTimeout(provider.name, provider.actualIntensity(actual), timeoutMs);
      attempts.push({ provider: provider.name, ok: true, failure: null, error: null });
    } catch (error) {
      attempts.push(describeFailure(provider.name, error));
      continue;
    }
    if (counterfactual === null) return { actual: measured, counterfactual: null, attempts, reason: null };
    try {
      const other = await withTimeout(provider.name, provider.actualIntensity(counterfactual), timeoutMs);
      return { actual: measured, counterfactual: other, attempts, reason: null };
    } catch (error) {
      const failed = describeFailure(provider.name, error);
      attempts.push(failed);
      return { actual: measured, counterfactual: null, attempts, reason: `counterfactual: ${failed.error}` };
    }
  }
  const reason = `no carbon figure for the run: ${attempts.map((a) => `${a.provider} (${a.error})`).join('; ')}`;
  return { actual: null, counterfactual: null, attempts, reason };
}
