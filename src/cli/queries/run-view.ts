import { sql } from 'drizzle-orm';
import { gradingRuns, runSlotClaims } from '../../db/schema.js';
import type { RunLane } from '../../shared/lanes.js';

/**
 * One grading run as `status --json` prints it. Timestamps are ISO-8601 UTC strings; a value that is not
 * known (yet) is null. Fields are only ever added, never renamed or removed (docs/cli.md).
 */
export interface RunView {
  workflowId: string;
  payloadSha256: string;
  trigger: 'ingest' | 'rerun';
  state: (typeof gradingRuns.$inferSelect)['state'];
  outcome: string | null;
  score: number | null;
  gradescopeScore: number | null;
  nodeName: string | null;
  region: string | null;
  zone: string | null;
  carbonZone: string | null;
  policy: string | null;
  attempts: number;
  expedited: boolean;
  receivedAt: string;
  plannedStartAt: string | null;
  /** The plan starts after the deadline: no usable node had room before it. */
  deadlineMissed: boolean;
  placedAt: string | null;
  containerStartedAt: string | null;
  containerFinishedAt: string | null;
  recordedAt: string | null;
  executionTimeMs: number | null;
  turnaroundTimeMs: number | null;
  energyKwh: number | null;
  emissionsGCo2: number | null;
  counterfactualEmissionsGCo2: number | null;
  savingGCo2: number | null;
  intensityBasis: string | null;
  failureReason: string | null;
  /** Priority lane, once the run asked for a slot (null before). */
  lane: RunLane | null;
  /** Waiting in its lane's queue for a free slot on a live node (the row's state is `queued`). */
  waitingForSlot: boolean;
}

/** The run columns a RunView is made of, for `db.select(runColumns)`. */
export const runColumns = {
  workflowId: gradingRuns.workflowId,
  payloadSha256: gradingRuns.payloadSha256,
  trigger: gradingRuns.trigger,
  state: gradingRuns.state,
  outcome: gradingRuns.outcome,
  score: gradingRuns.score,
  gradescopeScore: gradingRuns.gradescopeScore,
  nodeName: gradingRuns.nodeName,
  region: gradingRuns.region,
  zone: gradingRuns.zone,
  carbonZone: gradingRuns.carbonZone,
  policy: gradingRuns.policy,
  attempts: gradingRuns.attempts,
  expedited: gradingRuns.expedited,
  receivedAt: gradingRuns.receivedAt,
  plannedStartAt: gradingRuns.plannedStartAt,
  deadlineMissed: gradingRuns.deadlineMissed,
  placedAt: gradingRuns.placedAt,
  containerStartedAt: gradingRuns.containerStartedAt,
  containerFinishedAt: gradingRuns.containerFinishedAt,
  recordedAt: gradingRuns.recordedAt,
  executionTimeMs: gradingRuns.executionTimeMs,
  turnaroundTimeMs: gradingRuns.turnaroundTimeMs,
  energyKwh: gradingRuns.energyKwh,
  emissionsGCo2: gradingRuns.emissionsGCo2,
  counterfactualEmissionsGCo2: gradingRuns.counterfactualEmissionsGCo2,
  savingGCo2: gradingRuns.savingGCo2,
  intensityBasis: gradingRuns.intensityBasis,
  failureReason: gradingRuns.failureReason,
};

/** The slot-queue columns of a RunView: select them with `runColumns`, the query left-joining `run_slot_claims`. */
export const slotColumns = {
  lane: runSlotClaims.lane,
  waitingForSlot: sql<boolean>`coalesce(${runSlotClaims.nodeName} is null and ${runSlotClaims.releasedAt} is null, false)`,
};

type RunRow = {
  [Key in keyof typeof runColumns]: (typeof gradingRuns.$inferSelect)[Key];
} & { lane: RunLane | null; waitingForSlot: boolean };

/** Converts a selected row into its stable JSON form (dates as ISO strings). */
export function toRunView(row: RunRow): RunView {
  return {
    ...row,
    receivedAt: row.receivedAt.toISOString(),
    plannedStartAt: iso(row.plannedStartAt),
    placedAt: iso(row.placedAt),
    containerStartedAt: iso(row.containerStartedAt),
    containerFinishedAt: iso(row.containerFinishedAt),
    recordedAt: iso(row.recordedAt),
  };
}

export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
