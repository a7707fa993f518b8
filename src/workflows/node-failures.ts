// How a failed activity reads in a run's status and failure reason: one line an operator can act on.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { Placement } from '../shared/grading-types.js';

export function describeFailure(error: unknown): string {
  if (error instanceof ActivityFailure) return `${error.activityType} failed: ${error.cause?.message ?? error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function isPickupTimeout(error: ActivityFailure): boolean {
  return error.cause instanceof TimeoutFailure && error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

export function describeNodeFailure(chosen: Placement, error: ActivityFailure): string {
  const cause = error.cause;
  if (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
    return `node ${chosen.nodeName} did not pick the run up within ${chosen.pickupTimeoutSec} s`;
  }
  // Non-retryable (an unschedulable pod, a missing image, a submission too large): one attempt, then the next node.
  if (cause instanceof ApplicationFailure && cause.nonRetryable) {
    return `node ${chosen.nodeName} cannot run it: ${cause.message}`;
  }
  return `node ${chosen.nodeName} failed ${chosen.maxAttempts} attempts: ${cause?.message ?? error.message}`;
}
