// The run row's plan, written in the plan's own transaction (reserveAndRecord in reservations.ts) as statement
// text with its values written in (sql-literals.ts): drizzle's update builder took ~0.5 ms of client CPU per plan on
// the loaded 2-core machine, a tenth of the 5-ms planning target, and a rendered sql template 0.06–0.10 ms; this
// takes 0.03–0.04 ms, mostly the plan's JSON and its escaping. Column names still come from the schema.
import { getTableName } from 'drizzle-orm';
import pg from 'pg';
import { gradingRuns } from './schema.js';
import { textLiteral, typedLiteral } from './sql-literals.js';

/** What a plan writes on its run row. */
export interface PlanColumns {
  policy: string;
  plannedStartMs: number;
  plannedIntensityGCo2PerKwh: number | null;
  carbonZone: string;
  deadlineMissed: boolean;
  /** The plan record the run row shows (`grading_runs.plan`). */
  plan: Record<string, unknown>;
}

const column = (name: keyof typeof gradingRuns.$inferSelect) => pg.escapeIdentifier(gradingRuns[name].name);

/** One UPDATE of the run row with its plan. */
export function planRecord(runId: string, columns: PlanColumns): string {
  const intensity = columns.plannedIntensityGCo2PerKwh;
  // JavaScript's shortest exact form, quoted: PostgreSQL reads 1e-7, NaN and Infinity from it alike.
  const intensityLiteral = intensity === null ? null : textLiteral(String(intensity));
  const table = pg.escapeIdentifier(getTableName(gradingRuns));
  return `update ${table} set ${column('policy')} = ${textLiteral(columns.policy)},
    ${column('plannedStartAt')} = ${textLiteral(new Date(columns.plannedStartMs).toISOString())}::timestamptz,
    ${column('plannedIntensityGCo2PerKwh')} = ${typedLiteral(intensityLiteral, 'double precision')},
    ${column('carbonZone')} = ${textLiteral(columns.carbonZone)},
    ${column('deadlineMissed')} = ${columns.deadlineMissed ? 'true' : 'false'},
    ${column('plan')} = ${textLiteral(JSON.stringify(columns.plan))}::jsonb
    where ${column('id')} = ${textLiteral(runId)}::uuid`;
}
