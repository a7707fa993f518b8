/** Thrown when no node of the chosen region (and zone) accepted the pod before the unschedulable deadline. */
export class PodUnschedulableError extends Error {
  override name = 'PodUnschedulableError';
  constructor(
    readonly region: string,
    readonly zone: string | undefined,
    readonly waitedSec: number,
    /** The scheduler's own reason, e.g. "0/4 nodes are available: 4 node(s) didn't match …". */
    readonly schedulerMessage: string | undefined,
  ) {
    const where = zone === undefined ? `region ${region}` : `region ${region}, zone ${zone}`;
    super(`no node in ${where} took the grader pod within ${waitedSec} s: ${schedulerMessage ?? 'not scheduled'}`);
  }
}

/** Thrown when the node cannot get the assignment image (not in the registry, no pull credentials, bad name). */
export class ImagePullError extends Error {
  override name = 'ImagePullError';
  constructor(
    readonly image: string,
    readonly reason: string,
    readonly detail: string | undefined,
  ) {
    super(`node could not pull ${image}: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** Thrown when the packed submission is larger than one Secret may hold; retrying cannot fix it. */
export class SubmissionTooLargeError extends Error {
  override name = 'SubmissionTooLargeError';
  constructor(
    readonly packedBytes: number,
    readonly maxBytes: number,
  ) {
    super(`packed submission is ${packedBytes} bytes; a Secret holds at most ${maxBytes}`);
  }
}

/** Thrown when the pod ended without the grader running to its end for a reason outside the grader (eviction, deletion by someone else, a start that never came, input that did not unpack). */
export class PodFailedError extends Error {
  override name = 'PodFailedError';
  constructor(
    readonly podName: string,
    readonly reason: string,
  ) {
    super(`grader pod ${podName} failed: ${reason}`);
  }
}
