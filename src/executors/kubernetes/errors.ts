import { ApiException } from '@kubernetes/client-node';
import { NonRetryableExecutorError } from '../executor-error.js';

/** Thrown when no node of the chosen region (and zone) accepted the pod before the unschedulable deadline. */
export class PodUnschedulableError extends NonRetryableExecutorError {
  override name = 'PodUnschedulableError';
  readonly type = 'PodUnschedulable';
  constructor(
    readonly region: string,
    readonly zone: string | undefined,
    readonly waitedSec: number,
    /** The scheduler's own reason, e.g. "0/4 nodes are available: 4 node(s) didn't match …". */
    readonly schedulerMessage: string | undefined,
  ) {
    const where = zone === undefined ? `region ${region}` : `region ${region}, zone ${zone}`;
    super(
      `grader pod unschedulable: no node in ${where} took it within ${waitedSec} s: ${schedulerMessage ?? 'not scheduled'}`,
    );
  }
}

/** Thrown when the node cannot get the assignment image (not in the registry, no pull credentials, bad name). */
export class ImagePullError extends NonRetryableExecutorError {
  override name = 'ImagePullError';
  readonly type = 'ImagePull';
  constructor(
    readonly image: string,
    readonly reason: string,
    readonly detail: string | undefined,
  ) {
    super(`assignment image unavailable: node could not pull ${image}: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** Thrown when the packed submission is larger than one Secret may hold. */
export class SubmissionTooLargeError extends NonRetryableExecutorError {
  override name = 'SubmissionTooLargeError';
  readonly type = 'SubmissionTooLarge';
  constructor(
    readonly packedBytes: number,
    readonly maxBytes: number,
  ) {
    super(`submission too large: packed it is ${packedBytes} bytes; a Secret holds at most ${maxBytes}`);
  }
}

/**
 * Thrown when the pod ended without the grader running to its end for a reason outside the grader (eviction,
 * deletion by someone else, a start that never came, input that did not unpack). Retryable: another pod may fare
 * better.
 */
export class PodFailedError extends Error {
  override name = 'PodFailedError';
  constructor(
    readonly podName: string,
    readonly reason: string,
  ) {
    super(`grader pod ${podName} failed: ${reason}`);
  }
}

/** The HTTP status of a failed API call, if it got that far. */
function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export const isNotFound = (error: unknown): boolean => apiStatus(error) === 404;
export const isConflict = (error: unknown): boolean => apiStatus(error) === 409;
export const isForbidden = (error: unknown): boolean => apiStatus(error) === 403;

/** Runs a delete; an object already gone is what we wanted. */
export async function ignoreNotFound(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
