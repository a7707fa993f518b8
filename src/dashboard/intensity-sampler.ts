// Past intensity of a zone, one provider call per interval, cached for a while: a page view asks for
// dozens of intervals per zone, and a carbon API should not be asked again for every reload.
import type { CarbonProvider } from '../carbon/provider.js';

type Sample = { value: number; basis: string; source: string } | { error: string };

export interface IntensitySampler {
  sample(provider: CarbonProvider, zone: string, startMs: number, endMs: number): Promise<Sample>;
}

export interface SamplerOptions {
  /** How long an answer (or a failure) is reused; default 10 min. */
  ttlMs?: number;
  /** Oldest entries are dropped beyond this many; default 20 000. */
  maxEntries?: number;
  /** Per call, for providers without their own timeout; default 5 s. */
  timeoutMs?: number;
  now?: () => number;
}

export function createIntensitySampler(options: SamplerOptions = {}): IntensitySampler {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const maxEntries = options.maxEntries ?? 20_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { sample: Sample; expiresMs: number }>();
  return {
    async sample(provider, zone, startMs, endMs) {
      const key = `${provider.name}\u0000${zone}\u0000${startMs}\u0000${endMs}`;
      const cached = cache.get(key);
      if (cached && cached.expiresMs > now()) return cached.sample;
      let sample: Sample;
      try {
        const measured = await withTimeout(provider.actualIntensity({ zone, startMs, endMs }), timeoutMs);
        sample = { value: measured.intensityGCo2PerKwh, basis: measured.basis, source: measured.source };
      } catch (error) {
        sample = { error: error instanceof Error ? error.message : String(error) };
      }
      cache.delete(key);
      cache.set(key, { sample, expiresMs: now() + ttlMs });
      // Map order is insertion order: the first keys are the oldest.
      for (const oldest of cache.keys()) {
        if (cache.size <= maxEntries) break;
        cache.delete(oldest);
      }
      return sample;
    },
  };
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `task` over `items` with at most `limit` in flight; results keep the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
