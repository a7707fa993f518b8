/**
 * Thrown by an executor for a fault that another attempt on the same node cannot fix (an unschedulable pod, a
 * missing image, a submission too large). `type` becomes the non-retryable ApplicationFailure's type, so the
 * workflow gives the node up at once and tries the next one, whichever executor threw it.
 */
export abstract class NonRetryableExecutorError extends Error {
  abstract readonly type: string;
}
