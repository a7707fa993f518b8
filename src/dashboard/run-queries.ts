// What the dashboard reads: runs with their submission, newest first. Typed selects, no big columns
// (zips, outputs and results.json stay in the database).
import { desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns, runSlotClaims, submissions } from '../db/schema.js';
import type { RunLane } from '../shared/lanes.js';
import type { RunState } from '../shared/run-state.js';
import {
  parseRecord,
  planRecordSchema,
  receiptRecordSchema,
  type PlanRecord,
  type ReceiptRecord,
} from './run-records.js';

export interface RunSummary {
  id: string;
  workflowId: string;
  payloadSha256: string;
  trigger: 'ingest' | 'rerun';
  state: RunState;
  /** Priority lane, once the run asked for a slot; and whether it is waiting in that queue for a free slot. */
  lane: RunLane | null;
  waitingForSlot: boolean;
  outcome: string | null;
  gradescopeSubmissionId: number | null;
  assignmentId: number | null;
  assignmentTitle: string | null;
  /** Maximum score as Gradescope states it (text: it may be "10.0"). */
  totalPoints: string | null;
  score: number | null;
  gradescopeScore: number | null;
  nodeName: string | null;
  region: string | null;
  carbonZone: string | null;
  policy: string | null;
  expedited: boolean;
  receivedAt: Date;
  plannedStartAt: Date | null;
  containerStartedAt: Date | null;
  containerFinishedAt: Date | null;
  recordedAt: Date | null;
  /** Container start minus arrival: the wait for a greener hour plus queueing and image build. */
  startDelayMs: number | null;
  plannedIntensityGCo2PerKwh: number | null;
  intensityGCo2PerKwh: number | null;
  emissionsGCo2: number | null;
  counterfactualEmissionsGCo2: number | null;
  savingGCo2: number | null;
  /** Saving ÷ counterfactual emissions. */
  savingFraction: number | null;
  plan: PlanRecord | null;
}

export interface RunDetail extends RunSummary {
  zone: string | null;
  executor: string | null;
  imageTag: string | null;
  exitCode: number | null;
  cpuTimeMs: number | null;
  executionTimeMs: number | null;
  turnaroundTimeMs: number | null;
  attempts: number;
  failureReason: string | null;
  deadlineAt: Date | null;
  placedAt: Date | null;
  energyKwh: number | null;
  intensityBasis: string | null;
  intensitySource: string | null;
  receipt: ReceiptRecord | null;
}

const summaryColumns = {
  id: gradingRuns.id,
  workflowId: gradingRuns.workflowId,
  payloadSha256: gradingRuns.payloadSha256,
  trigger: gradingRuns.trigger,
  state: gradingRuns.state,
  outcome: gradingRuns.outcome,
  gradescopeSubmissionId: submissions.gradescopeSubmissionId,
  assignmentId: submissions.assignmentId,
  assignmentTitle: submissions.assignmentTitle,
  totalPoints: submissions.totalPoints,
  score: gradingRuns.score,
  gradescopeScore: gradingRuns.gradescopeScore,
  submissionGradescopeScore: submissions.gradescopeScore,
  nodeName: gradingRuns.nodeName,
  region: gradingRuns.region,
  carbonZone: gradingRuns.carbonZone,
  policy: gradingRuns.policy,
  expedited: gradingRuns.expedited,
  receivedAt: gradingRuns.receivedAt,
  plannedStartAt: gradingRuns.plannedStartAt,
  containerStartedAt: gradingRuns.containerStartedAt,
  containerFinishedAt: gradingRuns.containerFinishedAt,
  recordedAt: gradingRuns.recordedAt,
  plannedIntensityGCo2PerKwh: gradingRuns.plannedIntensityGCo2PerKwh,
  intensityGCo2PerKwh: gradingRuns.intensityGCo2PerKwh,
  emissionsGCo2: gradingRuns.emissionsGCo2,
  counterfactualEmissionsGCo2: gradingRuns.counterfactualEmissionsGCo2,
  savingGCo2: gradingRuns.savingGCo2,
  plan: gradingRuns.plan,
  lane: runSlotClaims.lane,
  waitingForSlot: sql<boolean>`coalesce(${runSlotClaims.nodeName} is null and ${runSlotClaims.releasedAt} is null, false)`,
};

type SummaryRow = Awaited<ReturnType<typeof listRows>>[number];

// Left join: a run has no submission until it is stored, nor ever when its payload was rejected.
function listRows(db: Database, limit: number) {
  return db
    .select(summaryColumns)
    .from(gradingRuns)
    .leftJoin(submissions, eq(submissions.id, gradingRuns.submissionId))
    .leftJoin(runSlotClaims, eq(runSlotClaims.runId, gradingRuns.id))
    .orderBy(desc(gradingRuns.receivedAt), desc(gradingRuns.id))
    .limit(limit);
}

/** The newest `limit` runs, newest first. */
export async function listRecentRuns(db: Database, limit: number): Promise<RunSummary[]> {
  return (await listRows(db, limit)).map(toSummary);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One run in full, or null when there is none with that id (including ids that are not UUIDs). */
export async function findRun(db: Database, id: string): Promise<RunDetail | null> {
  if (!UUID.test(id)) return null;
  const [row] = await db
    .select({
      ...summaryColumns,
      zone: gradingRuns.zone,
      executor: gradingRuns.executor,
      imageTag: gradingRuns.imageTag,
      exitCode: gradingRuns.exitCode,
      cpuTimeMs: gradingRuns.cpuTimeMs,
      executionTimeMs: gradingRuns.executionTimeMs,
      turnaroundTimeMs: gradingRuns.turnaroundTimeMs,
      attempts: gradingRuns.attempts,
      failureReason: gradingRuns.failureReason,
      deadlineAt: gradingRuns.deadlineAt,
      placedAt: gradingRuns.placedAt,
      energyKwh: gradingRuns.energyKwh,
      intensityBasis: gradingRuns.intensityBasis,
      intensitySource: gradingRuns.intensitySource,
      carbonReceipt: gradingRuns.carbonReceipt,
    })
    .from(gradingRuns)
    .leftJoin(submissions, eq(submissions.id, gradingRuns.submissionId))
    .leftJoin(runSlotClaims, eq(runSlotClaims.runId, gradingRuns.id))
    .where(eq(gradingRuns.id, id));
  if (!row) return null;
  return {
    ...toSummary(row),
    zone: row.zone,
    executor: row.executor,
    imageTag: row.imageTag,
    exitCode: row.exitCode,
    cpuTimeMs: row.cpuTimeMs,
    executionTimeMs: row.executionTimeMs,
    turnaroundTimeMs: row.turnaroundTimeMs,
    attempts: row.attempts,
    failureReason: row.failureReason,
    deadlineAt: row.deadlineAt,
    placedAt: row.placedAt,
    energyKwh: row.energyKwh,
    intensityBasis: row.intensityBasis,
    intensitySource: row.intensitySource,
    receipt: parseRecord(receiptRecordSchema, row.carbonReceipt),
  };
}

function toSummary(row: SummaryRow): RunSummary {
  const started = row.containerStartedAt;
  const counterfactual = row.counterfactualEmissionsGCo2;
  return {
    id: row.id,
    workflowId: row.workflowId,
    payloadSha256: row.payloadSha256,
    trigger: row.trigger,
    state: row.state,
    lane: row.lane,
    waitingForSlot: row.waitingForSlot,
    outcome: row.outcome,
    gradescopeSubmissionId: row.gradescopeSubmissionId,
    assignmentId: row.assignmentId,
    assignmentTitle: row.assignmentTitle,
    totalPoints: row.totalPoints,
    score: row.score,
    // A run not yet recorded has no copy of Gradescope's score on its row: the submission has it.
    gradescopeScore: row.gradescopeScore ?? row.submissionGradescopeScore,
    nodeName: row.nodeName,
    region: row.region,
    carbonZone: row.carbonZone,
    policy: row.policy,
    expedited: row.expedited,
    receivedAt: row.receivedAt,
    plannedStartAt: row.plannedStartAt,
    containerStartedAt: started,
    containerFinishedAt: row.containerFinishedAt,
    recordedAt: row.recordedAt,
    startDelayMs: started ? started.getTime() - row.receivedAt.getTime() : null,
    plannedIntensityGCo2PerKwh: row.plannedIntensityGCo2PerKwh,
    intensityGCo2PerKwh: row.intensityGCo2PerKwh,
    emissionsGCo2: row.emissionsGCo2,
    counterfactualEmissionsGCo2: counterfactual,
    savingGCo2: row.savingGCo2,
    savingFraction:
      row.savingGCo2 !== null && counterfactual !== null && counterfactual > 0 ? row.savingGCo2 / counterfactual : null,
    plan: parseRecord(planRecordSchema, row.plan),
  };
}
