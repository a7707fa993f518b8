// The run row's plan, written in the plan's own transaction (reserveAndRecord in reservations.ts). A statement in
// the sql template, not drizzle's update builder: building the update with its jsonb plan through the builder took
// ~0.5 ms of client CPU per plan on the loaded 2-core machine, a tenth of the 5-ms planning target, against ~0.2 ms
// this way. Column names still come from the schema.
import { type SQL, sql } from 'drizzle-orm';
import { gradingRuns } from './schema.js';

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

const column = (name: keyof typeof gradingRuns.$inferSelect) => sql.identifier(gradingRuns[name].name);

/** One UPDATE of the run row with its plan. */
export function planRecord(runId: string, columns: PlanColumns): SQL {
  return sql`update ${gradingRuns} set ${column('policy')} = ${columns.policy},
    ${column('plannedStartAt')} = ${new Date(columns.plannedStartMs).toISOString()}::timestamptz,
    ${column('plannedIntensityGCo2PerKwh')} = ${columns.plannedIntensityGCo2PerKwh}::double precision,
    ${column('carbonZone')} = ${columns.carbonZone}, ${column('deadlineMissed')} = ${columns.deadlineMissed},
    ${column('plan')} = ${JSON.stringify(columns.plan)}::jsonb
    where ${column('id')} = ${runId}::uuid`;
}
