// Types that cross the workflow/activity boundary. Pure declarations only: workflows import this file.
import type { RunLane } from './lanes.js';

/** How a grading run came about. */
export type RunTrigger = 'ingest' | 'rerun';

/** Where a run stands, as the status query reports it (the run row's coarser state: see run-state.ts). */
export const gradingStates = [
  'storing',
  'planning',
  'waiting',
  'placing',
  'queued',
  'running',
  'recording',
  'completed',
  'failed',
  'rejected',
] as const;
export type GradingState = (typeof gradingStates)[number];

/** What the bridge (or a re-run) hands the workflow: a reference, never the zip itself. */
export interface GradeSubmissionInput {
  payloadSha256: string;
  trigger: RunTrigger;
  /** When the payload arrived at the bridge, ISO-8601; turnaround is measured from here. */
  receivedAt: string;
  /** Set only by the workflow itself when a long wait for a slot continues as a new run: where it stood. */
  resume?: QueueContinuation;
}

/** A run's state carried across continue-as-new while it waits for a slot (its history stays bounded). */
interface QueueContinuation {
  runId: string;
  stored: StoredSubmissionRef;
  excludeNodes: string[];
  /** Pickups each node missed in a row, as [node, count] pairs. */
  missedPickups: [string, number][];
  status: GradingStatus;
}

export interface GradeSubmissionResult {
  state: 'completed' | 'failed' | 'rejected';
  runId: string;
  outcome: RunOutcome | null;
  score: number | null;
  nodeName: string | null;
  reason: string | null;
}

/** How a grader run ended. Only `infrastructure-failure` is GreenGrader's fault. */
export const runOutcomes = [
  'graded',
  'no-results',
  'invalid-results',
  'grader-error',
  'timeout',
  'out-of-memory',
  'build-failed',
  'infrastructure-failure',
] as const;
export type RunOutcome = (typeof runOutcomes)[number];

export interface StoredSubmissionRef {
  submissionId: string;
  gradescopeSubmissionId: number;
  assignmentId: number;
  courseId: number;
}

/** The node chosen for a run and the timeouts its activity gets (config lives outside workflows). */
export interface Placement {
  nodeName: string;
  taskQueue: string;
  region: string;
  zone: string;
  /** Image build plus grader timeout plus margin. */
  runTimeoutSec: number;
  /** How long the run may wait for the node to pick it up before another node is tried. */
  pickupTimeoutSec: number;
  /** Heartbeat silence that means the node died mid-run; absent in histories from before it was configurable (30). */
  heartbeatTimeoutSec?: number;
  maxAttempts: number;
}

/** A slot claimed on a node, or the run's place in the queue of its lane until one is free. */
export type SlotClaim =
  | { kind: 'claimed'; lane: RunLane; placement: Placement }
  | {
      kind: 'queued';
      lane: RunLane;
      position: number;
      /**
       * Epoch ms from which the run may spill to another node (src/shared/slot-spill.ts), when that is still to
       * come: the queued run claims again then, whatever wakes it before. Absent in histories from before it.
       */
      spillAtMs?: number | null;
    };

/** Signal sent to a queued run when a slot it may claim came free (its name, so activities can send it). */
export const SLOT_FREED_SIGNAL = 'slotFreed';

/** What the node reports back: small figures only; outputs are written to the run row by the node. */
export interface ExecutionSummary {
  outcome: 'completed' | 'timeout' | 'out-of-memory' | 'build-failed';
  exitCode: number | null;
  imageTag: string;
  startedAt: string | null;
  finishedAt: string | null;
  cpuTimeMs: number | null;
  /** AutograderExecution.resultsRefusal: a fixed sentence with sizes, never the file's content. */
  resultsRefusal?: string;
}

export interface GradingStatus {
  state: GradingState;
  runId: string | null;
  nodeName: string | null;
  /** Placement policy and the start it planned (ISO), while waiting for a greener hour. */
  policy: string | null;
  plannedStartAt: string | null;
  expectedIntensityGCo2PerKwh: number | null;
  expedited: boolean;
  /** Priority lane, once the run first asked for a slot (null before, and for runs from before lanes). */
  lane?: RunLane | null;
  /** Place in its region's queue while `queued`: 1 is next. */
  queuePosition?: number | null;
  attempts: number;
  lastError: string | null;
}

/** Each Docker node polls its own queue, so work lands exactly on the node that was chosen. */
export function nodeTaskQueue(nodeName: string): string {
  return `greengrader-node-${nodeName}`;
}

/** Business key: one workflow per distinct payload, so a redelivered zip starts nothing new. */
export function ingestWorkflowId(payloadSha256: string): string {
  return `grade-${payloadSha256}`;
}

/** ApplicationFailure type of a payload that can never be graded (bad zip, bad metadata). */
export const INVALID_SUBMISSION_ERROR = 'InvalidSubmission';
/** ApplicationFailure type of a carbon provider's failure; retryable only when the provider says so. */
export const CARBON_PROVIDER_ERROR = 'CarbonProviderError';
/** ApplicationFailure type when the planned node stopped checking in before the run was claimed. */
export const NODE_GONE_ERROR = 'NodeGone';
/** ApplicationFailure type when every live node already failed this run: trying again will not help. */
export const NODES_EXHAUSTED_ERROR = 'NodesExhausted';
/** ApplicationFailure type while no worker node is checking in; retried until one does. */
export const NO_LIVE_NODE_ERROR = 'NoLiveNode';

/** The failure reason a run cancelled by an operator (alone or with its regrade batch) records. */
export const CANCELLED_REASON = 'cancelled by an operator';

/** The workflow type name, as registered by the orchestrator worker. */
export const GRADE_SUBMISSION_WORKFLOW = 'GradeSubmission';
