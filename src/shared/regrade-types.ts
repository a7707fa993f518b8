// Types of a bulk regrade that cross the workflow/activity/CLI boundary. Pure declarations only: workflows import
// this file.

/** What a batch regrades: every stored submission of one assignment, or of one course. */
export const regradeScopes = ['assignment', 'course'] as const;
export type RegradeScope = (typeof regradeScopes)[number];

/** Where a batch stands, as its `regrade_batches` row records it. */
export const regradeBatchStates = ['running', 'completed', 'cancelled'] as const;
export type RegradeBatchState = (typeof regradeBatchStates)[number];

/** The workflow type name of a bulk regrade, as the worker registers it. */
export const REGRADE_BATCH_WORKFLOW = 'RegradeBatch';

/** Starts of children per page: one listing activity, at most this many start commands in one workflow task. */
export const DEFAULT_REGRADE_PAGE_SIZE = 100;
/** Children graded at once by one batch; more wait for a free place (the node slots are the real limit). */
export const DEFAULT_REGRADE_MAX_IN_FLIGHT = 200;
/**
 * Children one run of the parent starts before it continues as new. About six history events per child keeps a
 * run near 6,000 events, under the ~10k Temporal suggests.
 */
export const DEFAULT_REGRADE_CHILDREN_PER_RUN = 1000;

/** Counts the parent keeps as its children finish: its memo, and its result. */
export interface RegradeTally {
  started: number;
  graded: number;
  failed: number;
  cancelled: number;
}

export interface RegradeBatchInput {
  /** The batch's key (`regrade_batches.id`), part of each child's workflow id. */
  batchId: string;
  scope: RegradeScope;
  scopeId: number;
  pageSize: number;
  maxInFlight: number;
  childrenPerRun: number;
  /** Carried across continue-as-new: the last position started, the total, and the tally so far. */
  afterPosition?: number;
  total?: number;
  tally?: RegradeTally;
}

export interface RegradeBatchResult {
  batchId: string;
  total: number;
  tally: RegradeTally;
}

/** One submission of a batch, as the parent pages through them. */
export interface RegradeItem {
  position: number;
  payloadSha256: string;
  childWorkflowId: string;
}

/** `regrade-assignment-42`: one open batch per assignment (or course) at a time, so a second request attaches. */
export function regradeWorkflowId(scope: RegradeScope, scopeId: number): string {
  return `regrade-${scope}-${scopeId}`;
}

/** `assignment-42-<epoch ms>`: a new key for each batch, so a regrade issued again later grades everything anew. */
export function regradeBatchId(scope: RegradeScope, scopeId: number, at: Date): string {
  return `${scope}-${scopeId}-${at.getTime()}`;
}

/** `grade-<sha256>-regrade-<batch id>`: deterministic per batch, so a retried start never grades twice. */
export function regradeChildWorkflowId(payloadSha256: string, batchId: string): string {
  return `grade-${payloadSha256}-regrade-${batchId}`;
}
