import { and, asc, count, eq, gte, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { gradingRuns } from '../../db/schema.js';

/**
 * Sums over runs of one intensity basis. Average and marginal intensities answer different questions,
 * so they are never added up: every total is per basis, and runs without an intensity (basis null) count
 * their energy only.
 */
export interface CarbonTotals {
  /** `average`, `marginal`, or null for runs whose emissions are unknown (no intensity figure). */
  intensityBasis: string | null;
  runs: number;
  energyKwh: number;
  /** Sum over the group; null when the basis is null. */
  emissionsGCo2: number | null;
  /** Runs that also have an immediate-home counterfactual of the same basis. */
  comparedRuns: number;
  /** Over the compared runs only. */
  counterfactualEmissionsGCo2: number | null;
  /** counterfactual − actual over the compared runs; positive is a saving. */
  savingGCo2: number | null;
  /** savingGCo2 ÷ counterfactualEmissionsGCo2. */
  savingFraction: number | null;
}

/** `greengrader report --json`. */
export interface CarbonReport {
  /** Only runs recorded at or after this instant, when `--since` was given. */
  since: string | null;
  /** Completed runs (graded by a container, whatever the student's outcome). */
  completedRuns: number;
  /** Completed runs without a carbon receipt (accounting failed or was skipped): not in any total. */
  unaccountedRuns: number;
  /** Groups are ordered by their keys, a null key (unknown) last: PostgreSQL sorts nulls last ascending. */
  overall: CarbonTotals[];
  byPolicy: (CarbonTotals & { policy: string | null })[];
  byRegion: (CarbonTotals & { region: string | null })[];
  /** Each region split by the policy that placed its runs: where the saving came from. */
  byRegionAndPolicy: (CarbonTotals & { region: string | null; policy: string | null })[];
}

const totalsColumns = {
  intensityBasis: gradingRuns.intensityBasis,
  runs: sql<number>`count(*)`.mapWith(Number),
  energyKwh: sql<number>`coalesce(sum(${gradingRuns.energyKwh}), 0)`.mapWith(Number),
  emissionsGCo2: sql<number | null>`sum(${gradingRuns.emissionsGCo2})`.mapWith(Number),
  comparedRuns: sql<number>`count(${gradingRuns.savingGCo2})`.mapWith(Number),
  counterfactualEmissionsGCo2: sql<
    number | null
  >`sum(${gradingRuns.counterfactualEmissionsGCo2}) filter (where ${gradingRuns.savingGCo2} is not null)`.mapWith(
    Number,
  ),
  savingGCo2: sql<number | null>`sum(${gradingRuns.savingGCo2})`.mapWith(Number),
};

/** Carbon totals and savings over completed runs: overall, per placement policy and per region. */
export async function carbonReport(db: Database, options: { since?: Date } = {}): Promise<CarbonReport> {
  const completed: SQL[] = [eq(gradingRuns.state, 'completed')];
  if (options.since !== undefined) completed.push(gte(gradingRuns.recordedAt, options.since));
  const accounted = and(...completed, isNotNull(gradingRuns.energyKwh));

  const [counts] = await db
    .select({
      completedRuns: count(),
      unaccountedRuns: sql<number>`count(*) filter (where ${isNull(gradingRuns.energyKwh)})`.mapWith(Number),
    })
    .from(gradingRuns)
    .where(and(...completed));
  const overall = await db
    .select(totalsColumns)
    .from(gradingRuns)
    .where(accounted)
    .groupBy(gradingRuns.intensityBasis)
    .orderBy(asc(gradingRuns.intensityBasis));
  const byPolicy = await db
    .select({ policy: gradingRuns.policy, ...totalsColumns })
    .from(gradingRuns)
    .where(accounted)
    .groupBy(gradingRuns.policy, gradingRuns.intensityBasis)
    .orderBy(asc(gradingRuns.policy), asc(gradingRuns.intensityBasis));
  const byRegion = await db
    .select({ region: gradingRuns.region, ...totalsColumns })
    .from(gradingRuns)
    .where(accounted)
    .groupBy(gradingRuns.region, gradingRuns.intensityBasis)
    .orderBy(asc(gradingRuns.region), asc(gradingRuns.intensityBasis));
  const byRegionAndPolicy = await db
    .select({ region: gradingRuns.region, policy: gradingRuns.policy, ...totalsColumns })
    .from(gradingRuns)
    .where(accounted)
    .groupBy(gradingRuns.region, gradingRuns.policy, gradingRuns.intensityBasis)
    .orderBy(asc(gradingRuns.region), asc(gradingRuns.policy), asc(gradingRuns.intensityBasis));

  return {
    since: options.since?.toISOString() ?? null,
    completedRuns: counts?.completedRuns ?? 0,
    unaccountedRuns: counts?.unaccountedRuns ?? 0,
    overall: overall.map(withFraction),
    byPolicy: byPolicy.map(withFraction),
    byRegion: byRegion.map(withFraction),
    byRegionAndPolicy: byRegionAndPolicy.map(withFraction),
  };
}

function withFraction<T extends Omit<CarbonTotals, 'savingFraction'>>(
  totals: T,
): T & { savingFraction: number | null } {
  const { savingGCo2, counterfactualEmissionsGCo2 } = totals;
  const savingFraction =
    savingGCo2 !== null && counterfactualEmissionsGCo2 !== null && counterfactualEmissionsGCo2 > 0
      ? savingGCo2 / counterfactualEmissionsGCo2
      : null;
  return { ...totals, savingFraction };
}
