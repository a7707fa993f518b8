// Seeded pseudo-random numbers (mulberry32) so every benchmark run sees the same submissions.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(min: number, max: number): number;
  exponential(mean: number): number;
  /** exp(N(ln median, sigma²)). */
  logNormal(median: number, sigma: number): number;
  /** Failures before the first success, success probability p. */
  geometric(p: number): number;
  chance(p: number): boolean;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = 1 - next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    exponential: (mean) => -mean * Math.log(1 - next()),
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    geometric: (p) => Math.floor(Math.log(1 - next()) / Math.log(1 - p)),
    chance: (p) => next() < p,
  };
}
