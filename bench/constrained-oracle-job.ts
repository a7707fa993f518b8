// The capacity-constrained oracle for one benchmark setting: the year's runs with their true energy and run time,
// deadline = arrival + slack, each candidate's concurrency as busy time per clock hour (bench/constrained-oracle.ts).
import { estimateEnergy, type PowerModel } from '../src/carbon/accounting.js';
import type { ZoneTrace } from '../src/carbon/trace-file.js';
import type { Submission } from './arrivals.js';
import { HourlyUsage } from './capacity.js';
import { type ConstrainedOracleInput, constrainedOptimum } from './constrained-oracle.js';
import type { SimSetting } from './simulate.js';

export interface ConstrainedOracleTotals {
  slackMs: number;
  totalGCo2: number;
  /** Fewest runs any schedule must start after their deadline (the LP's miss mass, rounded up). */
  misses: number;
  /** Runs the LP relaxation splits over more than one start or candidate. */
  fractionalRuns: number;
  /** Per candidate: max over clock hours of runs at once ÷ capacity, on the oracle's schedule. */
  peakUtilisation: Record<string, number | null>;
  lpComponents: number;
  largestLpColumns: number;
  rounds: number;
  elapsedSec: number;
}

/** The oracle's problem for one setting and slack: the runs, the candidates' traces and their concurrency. */
export function oracleInput(
  setting: SimSetting,
  submissions: readonly Submission[],
  traces: ReadonlyMap<string, ZoneTrace>,
  slackMs: number,
  power: PowerModel,
  bucketMs?: number,
): ConstrainedOracleInput {
  const concurrency = new Map(setting.candidates.map((c) => [c.id, c.capacity ?? Infinity]));
  return {
    runs: submissions.map((s) => ({
      id: s.id,
      earliestStartMs: s.receivedMs,
      latestStartMs: s.receivedMs + slackMs,
      durationMs: s.durationMs,
      energyKwh: estimateEnergy(
        { cpuTimeSec: s.cpuTimeSec, wallTimeSec: s.durationMs / 1000, memoryGb: s.memoryGb },
        power,
      ).energyKwh,
    })),
    candidates: setting.candidates,
    grids: traces,
    capacity: (candidateId) => concurrency.get(candidateId) ?? Infinity,
    ...(bucketMs === undefined ? {} : { bucketMs }),
  };
}

export async function constrainedOracleTotals(
  setting: SimSetting,
  submissions: readonly Submission[],
  traces: ReadonlyMap<string, ZoneTrace>,
  slacksMs: readonly number[],
  power: PowerModel,
  /** Capacity bucket of the oracle; default a clock hour. Shorter buckets tighten the relaxation. */
  bucketMs?: number,
): Promise<ConstrainedOracleTotals[]> {
  const out: ConstrainedOracleTotals[] = [];
  for (const slackMs of slacksMs) {
    const startedMs = performance.now();
    const optimum = await constrainedOptimum(oracleInput(setting, submissions, traces, slackMs, power, bucketMs));
    const usage = new HourlyUsage();
    optimum.assignments.forEach((a, index) => {
      for (const s of a.shares) usage.add(s.candidateId, s.startMs, submissions[index]!.durationMs, s.share);
    });
    out.push({
      slackMs,
      totalGCo2: optimum.totalGCo2,
      // A schedule's miss count is whole and at least the LP's; the tolerance absorbs the solver's rounding.
      misses: Math.ceil(optimum.misses - 1e-6),
      fractionalRuns: optimum.fractionalRuns,
      peakUtilisation: Object.fromEntries(
        setting.candidates.map((c) => [c.id, usage.peakUtilisation(c.id, c.capacity)]),
      ),
      lpComponents: optimum.lpComponents,
      largestLpColumns: optimum.largestLpColumns,
      rounds: optimum.rounds,
      elapsedSec: Math.round((performance.now() - startedMs) / 100) / 10,
    });
  }
  return out;
}
