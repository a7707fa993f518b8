// The process's Prometheus metrics: one registry per process, scraped at /metrics (see metrics-server.ts).
// Each process reports what happens in it: the bridge counts messages and started workflows, the
// orchestrator grading durations and carbon, a node worker its own load.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PurgeCounts } from '../db/retention-purge.js';

// Label values are declared here, not borrowed from the modules that report them: those modules depend on
// observability, and a value this file does not know fails to compile at the call.

/** Why the bridge refused a message before storage: the `code` label of messagesRejected. */
const MESSAGE_REJECTION_CODES = ['oversized', 'empty', 'not-a-zip'] as const;
type MessageRejectionCode = (typeof MESSAGE_REJECTION_CODES)[number];

/** The intensity basis of a carbon figure: the `basis` label of the carbon counters. */
const INTENSITY_BASES = ['average', 'marginal'] as const;
type IntensityBasisLabel = (typeof INTENSITY_BASES)[number];

/**
 * How the workflow of a run row the reconciliation fixed stands in Temporal (its execution status, lower case),
 * or `not_found` when Temporal does not know it: the `workflow_status` label of reconciledRuns.
 */
const RECONCILED_WORKFLOW_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
  'continued_as_new',
  'not_found',
] as const;
export type ReconciledWorkflowStatus = (typeof RECONCILED_WORKFLOW_STATUSES)[number];

/** What the carbon counters read of one run's receipt. */
interface RunCarbonFigures {
  actual: { basis: IntensityBasisLabel; emissionsGCo2: number } | null;
  /** Against immediate-home; positive is a saving. */
  savingGCo2: number | null;
}

export interface GreenGraderMetrics {
  registry: Registry;
  /** Messages handed to the acceptor (a redelivery, or a retry after a fault, counts again). */
  messagesReceived: Counter;
  /** Messages refused before storage, by `code`: oversized, empty, not-a-zip. */
  messagesRejected: Counter<'code'>;
  /** GradeSubmission workflows this process started (duplicates are not counted). */
  workflowsStarted: Counter;
  /** Of those, the ones whose first workflow task the server handed straight to this process's own worker. */
  workflowsStartedEagerly: Counter;
  /** Mosquitto's `$SYS/broker/publish/messages/dropped`, as last read by the bridge (all its clients). */
  brokerMessagesDropped: Gauge;
  /** Messages the broker sent the bridge again (DUP flag) after a lost connection: out of publication order. */
  messagesRedelivered: Counter;
  /** Container start to finish, by run `outcome`. */
  gradingDuration: Histogram<'outcome'>;
  /** Runs placed on or running on a node (what placement counts as load), read at each scrape. */
  nodeActiveRuns: Gauge<'node'>;
  /** Where `nodeActiveRuns` reads each tracked node's count from (see node-load.ts). */
  nodeLoadSources: Map<string, () => Promise<number>>;
  /** Containers a node runs at once. */
  nodeCapacity: Gauge<'node'>;
  /** Run rows left unfinished by a closed or unknown workflow and marked failed, by `workflow_status`. */
  reconciledRuns: Counter<'workflow_status'>;
  /** What the retention purge dropped, by `kind`: raw_payload, rejected_message, run_output (see PurgeCounts). */
  purged: Counter<'kind'>;
  /** Grams CO2 of accounted runs, by intensity `basis` (average and marginal never add up). */
  emissionsGrams: Counter<'basis'>;
  /** Grams CO2 saved against immediate-home, over runs that emitted less than it would have. */
  savingGrams: Counter<'basis'>;
  /** Grams CO2 above immediate-home, over runs that emitted more (a counter cannot go down). */
  extraEmissionsGrams: Counter<'basis'>;
}

/** Seconds: a grader takes from about a second to Gradescope's 10-minute default limit and a little over. */
const GRADING_BUCKETS_SEC = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 900];

function createMetrics(registry: Registry = new Registry()): GreenGraderMetrics {
  const registers = [registry];
  const nodeLoadSources = new Map<string, () => Promise<number>>();
  const created: GreenGraderMetrics = {
    registry,
    messagesReceived: new Counter({
      name: 'greengrader_messages_received_total',
      help: 'MQTT messages handed to the bridge acceptor, redeliveries included',
      registers,
    }),
    messagesRejected: new Counter({
      name: 'greengrader_messages_rejected_total',
      help: 'MQTT messages refused before storage, by rejection code',
      labelNames: ['code'],
      registers,
    }),
    workflowsStarted: new Counter({
      name: 'greengrader_workflows_started_total',
      help: 'GradeSubmission workflows started by this process',
      registers,
    }),
    workflowsStartedEagerly: new Counter({
      name: 'greengrader_workflows_started_eagerly_total',
      help: 'GradeSubmission workflows started by this process whose first workflow task went straight to its own worker',
      registers,
    }),
    brokerMessagesDropped: new Gauge({
      name: 'greengrader_broker_messages_dropped',
      help: "The broker's own count of messages it dropped since it started ($SYS/broker/publish/messages/dropped)",
      registers,
    }),
    messagesRedelivered: new Counter({
      name: 'greengrader_messages_redelivered_total',
      help: 'MQTT messages the broker redelivered to the bridge (DUP flag) after a lost connection',
      registers,
    }),
    gradingDuration: new Histogram({
      name: 'greengrader_grading_duration_seconds',
      help: 'Grading container wall time, start to finish, by outcome',
      labelNames: ['outcome'],
      buckets: GRADING_BUCKETS_SEC,
      registers,
    }),
    nodeActiveRuns: new Gauge({
      name: 'greengrader_node_active_runs',
      help: 'Runs placed on or running on the node',
      labelNames: ['node'],
      registers,
      // prom-client awaits this before each scrape. A failed read keeps the last value: a scrape must
      // not fail because PostgreSQL is briefly away.
      async collect() {
        await Promise.all(
          [...nodeLoadSources].map(async ([node, read]) => {
            const active = await read().catch(() => null);
            if (active !== null) this.set({ node }, active);
          }),
        );
      },
    }),
    nodeLoadSources,
    nodeCapacity: new Gauge({
      name: 'greengrader_node_capacity_runs',
      help: 'Grading containers the node runs at once',
      labelNames: ['node'],
      registers,
    }),
    reconciledRuns: new Counter({
      name: 'greengrader_reconciled_runs_total',
      help: 'Run rows marked failed because their workflow closed or vanished without recording a result',
      labelNames: ['workflow_status'],
      registers,
    }),
    purged: new Counter({
      name: 'greengrader_purged_total',
      help: 'Payload bytes and run output dropped by the retention purge, by kind',
      labelNames: ['kind'],
      registers,
    }),
    emissionsGrams: new Counter({
      name: 'greengrader_emissions_grams_total',
      help: 'Grams CO2 emitted by accounted runs, by intensity basis',
      labelNames: ['basis'],
      registers,
    }),
    savingGrams: new Counter({
      name: 'greengrader_saving_grams_total',
      help: 'Grams CO2 saved against immediate-home by runs that emitted less than it, by intensity basis',
      labelNames: ['basis'],
      registers,
    }),
    extraEmissionsGrams: new Counter({
      name: 'greengrader_extra_emissions_grams_total',
      help: 'Grams CO2 above immediate-home by runs that emitted more than it, by intensity basis',
      labelNames: ['basis'],
      registers,
    }),
  };
  // Every label value exists from the start, so a rate over it is 0 rather than absent.
  for (const code of MESSAGE_REJECTION_CODES) created.messagesRejected.inc({ code }, 0);
  for (const status of RECONCILED_WORKFLOW_STATUSES) created.reconciledRuns.inc({ workflow_status: status }, 0);
  for (const basis of INTENSITY_BASES) {
    for (const counter of [created.emissionsGrams, created.savingGrams, created.extraEmissionsGrams]) {
      counter.inc({ basis }, 0);
    }
  }
  return created;
}

/** This process's metrics; the one registry `startMetricsServer` serves. */
export const metrics: GreenGraderMetrics = createMetrics();

/** Observes a finished container's wall time; does nothing when either instant is missing. */
export function observeGradingDuration(
  outcome: string,
  startedAt: string | null,
  finishedAt: string | null,
  target: GreenGraderMetrics = metrics,
): void {
  if (startedAt === null || finishedAt === null) return;
  const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) target.gradingDuration.observe({ outcome }, seconds);
}

/** Counts one message the bridge refused before storage. */
export function countRejectedMessage(code: MessageRejectionCode, target: GreenGraderMetrics = metrics): void {
  target.messagesRejected.inc({ code });
}

/** Counts one run row the reconciliation marked failed. */
export function countReconciledRun(status: ReconciledWorkflowStatus, target: GreenGraderMetrics = metrics): void {
  target.reconciledRuns.inc({ workflow_status: status });
}

/** Adds what one purge dropped. */
export function countPurged(counts: PurgeCounts, target: GreenGraderMetrics = metrics): void {
  target.purged.inc({ kind: 'raw_payload' }, counts.rawPayloads);
  target.purged.inc({ kind: 'rejected_message' }, counts.rejectedMessages);
  target.purged.inc({ kind: 'run_output' }, counts.runOutputs);
}

/** Adds one run's receipt: its emissions, and its saving or extra against immediate-home. */
export function countRunCarbon(receipt: RunCarbonFigures, target: GreenGraderMetrics = metrics): void {
  if (!receipt.actual) return;
  const labels = { basis: receipt.actual.basis };
  target.emissionsGrams.inc(labels, Math.max(0, receipt.actual.emissionsGCo2));
  const saving = receipt.savingGCo2;
  if (saving === null || !Number.isFinite(saving)) return;
  if (saving >= 0) target.savingGrams.inc(labels, saving);
  else target.extraEmissionsGrams.inc(labels, -saving);
}
