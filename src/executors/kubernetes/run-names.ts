import { createHash } from 'node:crypto';

/** Labels select (list, watch, clean up); annotations carry what does not fit a label value. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  run: 'greengrader.io/run',
  assignment: 'greengrader.io/assignment',
} as const;

export const ANNOTATIONS = {
  runId: 'greengrader.io/run-id',
  submissionId: 'greengrader.io/submission-id',
  sourceHash: 'greengrader.io/source-hash',
  /** Hash of everything the pod was made from: a retry adopts a leftover pod only when it matches. */
  specHash: 'greengrader.io/spec-hash',
} as const;

export const MANAGED_BY = 'greengrader';

/** The names of one run's objects; the same run id always gives the same names, so a retry finds them. */
export interface RunNames {
  /** Label value identifying the run: the run id itself when it is a valid label value, else a hash of it. */
  key: string;
  pod: string;
  secret: string;
}

// A DNS-1123 label that also leaves room for the `gg-run-` prefix and `-input` suffix within 63 characters.
const plainKey = /^[a-z0-9]([-a-z0-9]{0,44}[a-z0-9])?$/;

export function runNames(runId: string): RunNames {
  const key = plainKey.test(runId) ? runId : `h${createHash('sha256').update(runId).digest('hex').slice(0, 40)}`;
  return { key, pod: `gg-run-${key}`, secret: `gg-run-${key}-input` };
}

/** Selects every pod and Secret of a run, whatever attempt made them. */
export function runSelector(runId: string): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.run}=${runNames(runId).key}`;
}
