// Turns per-home totals into the figures the benchmark reports: savings vs home, vs the best static region in
// hindsight, and as a fraction of the oracle's saving. Means are over homes.
import { BUILT_IN_POLICIES } from '../src/scheduling/policies.js';
import type { ConstrainedOracleTotals } from './constrained-oracle-job.js';
import type { FewestMissesAtZeroSlack } from './fewest-misses.js';
import type { OracleKind, SimResult } from './simulate.js';

export interface PolicySummary {
  slackHours: number;
  policy: string;
  /** Mean over homes. */
  emissionsKgCo2: number;
  savingVsHomePct: number;
  savingVsBestStaticPct: number;
  /** Saving of the spatiotemporal oracle (true future, same candidates and slack): the physical limit. */
  oracleSavingVsHomePct: number;
  /** savingVsHome ÷ oracleSavingVsHome. */
  fractionOfOraclePct: number | null;
  /** The oracle of the policy's own class (spatial, temporal or spatiotemporal with the true future). */
  ownClassOracleSavingVsHomePct: number | null;
  fractionOfOwnClassOraclePct: number | null;
  /** Saving of the exact optimum under the setting's capacity (the unconstrained oracle where unlimited). */
  constrainedOracleSavingVsHomePct: number;
  fractionOfConstrainedOraclePct: number | null;
  /** Runs that started after their deadline, summed over homes (the constrained oracle: the fewest possible). */
  deadlineMisses: number;
  /**
   * Fewest possible misses (instant-exact, bench/fewest-misses.ts): the fewest any non-preemptive schedule with the
   * policy's reach (every candidate, or the home alone) can have, summed over homes like `deadlineMisses`; null
   * where not computed (slack above 0 h, or no capacity given).
   */
  fewestPossibleMisses: number | null;
  /** The misses by cause: planned after the deadline (no room before it), or held in the slot queue past it. */
  missedNoRoom: number;
  missedInSlotQueue: number;
  /** Runs the slot queue started on another candidate than planned: they spilled at their deadline (summed over homes). */
  spilled: number;
  /** Longest wait in the slot queue past a planned start, any home, seconds. */
  longestQueueWaitSec: number;
  /** Per candidate: max over homes and clock hours of runs at once ÷ capacity; null where unlimited. */
  peakUtilisation: Record<string, number | null>;
  plansPerRun: number;
  /** Wall time in planPlacement per run, re-plans included (ms). */
  planMsPerRun: number;
  fallbackRuns: number;
  perHome: { home: string; emissionsKgCo2: number; savingVsHomePct: number }[];
}

export interface SettingSummary {
  variant: string;
  name: string;
  title: string;
  homes: string[];
  submissions: number;
  bestStaticZone: string;
  bestStaticKgCo2: number;
  /** What always using the best static region would save against each home, mean over homes. */
  bestStaticSavingVsHomePct: number;
  staticKgCo2ByZone: Record<string, number>;
  rows: PolicySummary[];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const pct = (fraction: number) => Math.round(fraction * 10_000) / 100;
const kg = (grams: number) => Math.round(grams) / 1000;

/**
 * Merges the results of one variant and setting (jobs may have split its homes) into one summary. `constrained`:
 * the capacity-constrained oracle per slack; without it (unlimited capacity) it equals the unconstrained oracle.
 * `fewestAtZeroSlack`: the fewest possible misses at 0-h slack (for the replay's submissions), when computed.
 */
export function summarize(
  results: readonly SimResult[],
  constrained?: readonly ConstrainedOracleTotals[],
  fewestAtZeroSlack?: FewestMissesAtZeroSlack,
): SettingSummary {
  const first = results[0];
  if (!first) throw new Error('nothing to summarize');
  const staticByZone = first.staticGCo2ByZone;
  const [bestStaticZone, bestStaticG] = Object.entries(staticByZone).reduce((a, b) => (b[1] < a[1] ? b : a));
  const rows: PolicySummary[] = [];
  const homesAtFirstSlack = results.flatMap((result) => result.slacks[0]?.homes ?? []);
  const bestStaticSaving = mean(
    homesAtFirstSlack.map((h) => 1 - bestStaticG / (h.emissionsGCo2['immediate-home'] ?? NaN)),
  );
  first.job.slacksMs.forEach((slackMs, slackIndex) => {
    const homes = results.flatMap((result) => result.slacks[slackIndex]?.homes ?? []);
    const homeG = (h: (typeof homes)[number]) => h.emissionsGCo2['immediate-home'] ?? NaN;
    const oracleSaving = mean(homes.map((h) => 1 - h.oracleGCo2.spatiotemporal / homeG(h)));
    const limit = constrained?.find((c) => c.slackMs === slackMs);
    const bound = slackMs === 0 && first.job.dueGraceMs === null ? fewestAtZeroSlack : undefined;
    /** Per home for home-only policies; one schedule charged to every home for those that move runs. */
    const fewest = (moves: boolean) =>
      bound === undefined
        ? null
        : moves
          ? bound.anywhere * homes.length
          : homes.reduce((sum, h) => sum + (bound.atHome[h.home] ?? NaN), 0);
    if (constrained && !limit) throw new Error(`no constrained oracle for slack ${slackMs} ms`);
    const constrainedG = (h: (typeof homes)[number]) => limit?.totalGCo2 ?? h.oracleGCo2.spatiotemporal;
    const constrainedSaving = mean(homes.map((h) => 1 - constrainedG(h) / homeG(h)));
    const peaks = (policy: string) => {
      const out: Record<string, number | null> = {};
      for (const result of results) {
        for (const [id, value] of Object.entries(result.slacks[slackIndex]?.peakUtilisation[policy] ?? {})) {
          const known = out[id];
          out[id] = value === null ? (known ?? null) : Math.max(known ?? 0, value);
        }
      }
      return out;
    };
    for (const policy of first.job.policies) {
      const saving = mean(homes.map((h) => 1 - (h.emissionsGCo2[policy] ?? NaN) / homeG(h)));
      const ownClass: OracleKind | null = policy === 'immediate-home' ? null : policy;
      const ownSaving = ownClass ? mean(homes.map((h) => 1 - h.oracleGCo2[ownClass] / homeG(h))) : null;
      rows.push({
        slackHours: slackMs / 3_600_000,
        policy,
        emissionsKgCo2: kg(mean(homes.map((h) => h.emissionsGCo2[policy] ?? NaN))),
        savingVsHomePct: pct(saving),
        savingVsBestStaticPct: pct(mean(homes.map((h) => 1 - (h.emissionsGCo2[policy] ?? NaN) / bestStaticG))),
        oracleSavingVsHomePct: pct(oracleSaving),
        fractionOfOraclePct: oracleSaving > 0 ? pct(saving / oracleSaving) : null,
        ownClassOracleSavingVsHomePct: ownSaving === null ? null : pct(ownSaving),
        fractionOfOwnClassOraclePct: ownSaving !== null && ownSaving > 0 ? pct(saving / ownSaving) : null,
        constrainedOracleSavingVsHomePct: pct(constrainedSaving),
        fractionOfConstrainedOraclePct: constrainedSaving > 0 ? pct(saving / constrainedSaving) : null,
        deadlineMisses: homes.reduce((sum, h) => sum + (h.deadlineMisses[policy] ?? 0), 0),
        fewestPossibleMisses: fewest(BUILT_IN_POLICIES[policy].movesAcrossCandidates),
        missedNoRoom: homes.reduce((sum, h) => sum + (h.missedNoRoom[policy] ?? 0), 0),
        missedInSlotQueue: homes.reduce((sum, h) => sum + (h.missedInSlotQueue[policy] ?? 0), 0),
        spilled: homes.reduce((sum, h) => sum + (h.spilled[policy] ?? 0), 0),
        longestQueueWaitSec: Math.round(Math.max(0, ...homes.map((h) => h.queueWaitMs[policy]?.longest ?? 0)) / 1000),
        peakUtilisation: peaks(policy),
        plansPerRun: Math.round((mean(homes.map((h) => h.plans[policy] ?? 0)) / first.submissions) * 100) / 100,
        planMsPerRun: Math.round((mean(homes.map((h) => h.planMs[policy] ?? 0)) / first.submissions) * 1000) / 1000,
        fallbackRuns: homes.reduce((sum, h) => sum + (h.fallbacks[policy] ?? 0), 0),
        perHome: homes.map((h) => ({
          home: h.home,
          emissionsKgCo2: kg(h.emissionsGCo2[policy] ?? NaN),
          savingVsHomePct: pct(1 - (h.emissionsGCo2[policy] ?? NaN) / homeG(h)),
        })),
      });
    }
    rows.push({
      slackHours: slackMs / 3_600_000,
      policy: 'oracle',
      emissionsKgCo2: kg(mean(homes.map((h) => h.oracleGCo2.spatiotemporal))),
      savingVsHomePct: pct(oracleSaving),
      savingVsBestStaticPct: pct(mean(homes.map((h) => 1 - h.oracleGCo2.spatiotemporal / bestStaticG))),
      oracleSavingVsHomePct: pct(oracleSaving),
      fractionOfOraclePct: 100,
      ownClassOracleSavingVsHomePct: null,
      fractionOfOwnClassOraclePct: null,
      constrainedOracleSavingVsHomePct: pct(constrainedSaving),
      fractionOfConstrainedOraclePct: constrainedSaving > 0 ? pct(oracleSaving / constrainedSaving) : null,
      deadlineMisses: 0,
      // Without capacity: nothing to bound.
      fewestPossibleMisses: null,
      missedNoRoom: 0,
      missedInSlotQueue: 0,
      spilled: 0,
      longestQueueWaitSec: 0,
      peakUtilisation: {},
      plansPerRun: 1,
      planMsPerRun: 0,
      fallbackRuns: 0,
      perHome: homes.map((h) => ({
        home: h.home,
        emissionsKgCo2: kg(h.oracleGCo2.spatiotemporal),
        savingVsHomePct: pct(1 - h.oracleGCo2.spatiotemporal / homeG(h)),
      })),
    });
    if (limit) {
      rows.push({
        slackHours: slackMs / 3_600_000,
        policy: 'constrained oracle',
        emissionsKgCo2: kg(limit.totalGCo2),
        savingVsHomePct: pct(constrainedSaving),
        savingVsBestStaticPct: pct(1 - limit.totalGCo2 / bestStaticG),
        oracleSavingVsHomePct: pct(oracleSaving),
        fractionOfOraclePct: oracleSaving > 0 ? pct(constrainedSaving / oracleSaving) : null,
        ownClassOracleSavingVsHomePct: null,
        fractionOfOwnClassOraclePct: null,
        constrainedOracleSavingVsHomePct: pct(constrainedSaving),
        fractionOfConstrainedOraclePct: 100,
        // The oracle's schedule is the same for every home; summed over homes like the policies' misses.
        deadlineMisses: limit.misses * homes.length,
        fewestPossibleMisses: fewest(true),
        // A relaxation of every schedule: it has no slot queue, so all its misses are "no room".
        missedNoRoom: limit.misses * homes.length,
        missedInSlotQueue: 0,
        spilled: 0,
        longestQueueWaitSec: 0,
        peakUtilisation: limit.peakUtilisation,
        plansPerRun: 1,
        planMsPerRun: 0,
        fallbackRuns: 0,
        perHome: homes.map((h) => ({
          home: h.home,
          emissionsKgCo2: kg(limit.totalGCo2),
          savingVsHomePct: pct(1 - limit.totalGCo2 / homeG(h)),
        })),
      });
    }
  });
  return {
    variant: first.job.variant,
    name: first.job.setting.name,
    title: first.job.setting.title,
    homes: results.flatMap((result) => result.job.homeIds),
    submissions: first.submissions,
    bestStaticZone,
    bestStaticKgCo2: kg(bestStaticG),
    bestStaticSavingVsHomePct: pct(bestStaticSaving),
    staticKgCo2ByZone: Object.fromEntries(Object.entries(staticByZone).map(([zone, g]) => [zone, kg(g)])),
    rows,
  };
}
