import { createHash } from 'node:crypto';
import type { V1OwnerReference, V1Pod, V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import type { AutograderJob } from '../executor.js';
import { graderWrapperScript, INPUT_DIR, INPUT_KEY, NONCE_KEY } from './grader-wrapper.js';
import { trailerNonce, type ResolvedKubernetesOptions } from './options.js';
import { ANNOTATIONS, LABELS, MANAGED_BY, runNames } from './run-names.js';

export const GRADER_CONTAINER = 'grader';

/** Folders the grader may write to, each a subPath of the one size-limited scratch emptyDir. HOME is /root. */
const WRITABLE = ['/autograder', '/tmp', '/var/tmp', '/root', '/home', '/run'];

/** The pod of one run and the Secret holding its submission, ready to create. */
export interface GraderPodSpec {
  pod: V1Pod;
  secret: V1Secret;
  image: string;
  specHash: string;
}

/** Gradescope's submission_metadata.json names the submission; only its id is used, to annotate the pod. */
const metadataId = z.object({
  /** Gradescope's submission id. */
  id: z.union([z.number(), z.string()]).optional(),
});

/**
 * One pod per run: the image of the assignment, a REQUIRED node affinity for the chosen region (and zone),
 * restartPolicy Never, CPU/memory/ephemeral-storage limits, no ServiceAccount token, every capability dropped,
 * no privilege escalation, an activeDeadlineSeconds backstop, and labels/annotations tying it to run and submission.
 */
export function buildGraderPod(job: AutograderJob, payload: Buffer, options: ResolvedKubernetesOptions): GraderPodSpec {
  const names = runNames(job.runId);
  const image = options.imageFor(job.assignmentId, job.sourceHash);
  const { limits } = job;
  const cpuMillis = Math.ceil(limits.nanoCpus / 1e6);
  const requests = options.requests;
  const labels = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: 'grader',
    [LABELS.run]: names.key,
    [LABELS.assignment]: String(job.assignmentId),
  };
  const submissionId = submissionIdOf(job.metadataJson);
  const nonce = trailerNonce(options, job.runId);
  const zoneTerm =
    options.zone === undefined ? [] : [{ key: options.labelKeys.zone, operator: 'In', values: [options.zone] }];
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: names.pod,
      namespace: options.namespace,
      labels,
      annotations: {
        [ANNOTATIONS.runId]: job.runId,
        [ANNOTATIONS.sourceHash]: job.sourceHash,
        ...(submissionId === undefined ? {} : { [ANNOTATIONS.submissionId]: submissionId }),
      },
    },
    spec: {
      restartPolicy: 'Never', // a grader's crash is its result; running it twice would not be the same run
      automountServiceAccountToken: false, // student code must not talk to the API server as anyone
      serviceAccountName: options.serviceAccountName,
      enableServiceLinks: false, // no environment variables describing the cluster's services
      terminationGracePeriodSeconds: 0, // nothing to save: a deleted grader stops at once
      activeDeadlineSeconds: limits.timeoutSec + options.startupAllowanceSec, // cluster-side backstop
      ...(options.runtimeClassName === undefined ? {} : { runtimeClassName: options.runtimeClassName }),
      imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })),
      affinity: {
        nodeAffinity: {
          // Required, not preferred (the original's choice): a run placed for its region's carbon never runs elsewhere.
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: options.labelKeys.region, operator: 'In', values: [options.region] },
                  ...zoneTerm,
                ],
              },
            ],
          },
        },
      },
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: GRADER_CONTAINER,
          image,
          imagePullPolicy: options.imagePullPolicy,
          command: ['/bin/sh', '-c', graderWrapperScript(limits)],
          workingDir: '/autograder',
          resources: {
            limits: {
              cpu: `${cpuMillis}m`,
              memory: String(limits.memoryBytes), // no swap for Guaranteed pods: the limit is real, as on Docker
              'ephemeral-storage': String(options.ephemeralStorageBytes), // a grader filling the disk is evicted
            },
            requests: {
              cpu: `${requests.cpuMillis ?? cpuMillis}m`,
              memory: String(requests.memoryBytes ?? limits.memoryBytes),
              'ephemeral-storage': String(requests.ephemeralStorageBytes ?? options.ephemeralStorageBytes),
            },
          },
          securityContext: {
            // The root wrapper keeps only what it needs to run the grader as `nobody` and to signal it; the grader
            // loses even these when it changes user.
            capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID', 'KILL'] },
            allowPrivilegeEscalation: false, // setuid binaries cannot regain them
            privileged: false,
            // Where the grader allows it (options.readOnlyRootFilesystem): the image cannot be changed or grow.
            readOnlyRootFilesystem: options.readOnlyRootFilesystem,
          },
          volumeMounts: [
            { name: 'input', mountPath: INPUT_DIR, readOnly: true },
            ...WRITABLE.map((path) => ({
              name: 'scratch',
              mountPath: path,
              subPath: path.slice(1).replace(/\//g, '-'),
            })),
          ],
        },
      ],
      volumes: [
        // Readable by an image's non-root user too; the grader sees the submission anyway.
        // The nonce is the wrapper's (root) alone; the grader runs as `nobody`.
        {
          name: 'input',
          secret: {
            secretName: names.secret,
            items: [
              { key: INPUT_KEY, path: INPUT_KEY, mode: 0o444 },
              { key: NONCE_KEY, path: NONCE_KEY, mode: 0o400 },
            ],
          },
        },
        // One volume for all writable folders: the kubelet evicts the pod once they hold more than sizeLimit.
        { name: 'scratch', emptyDir: { sizeLimit: String(options.diskLimitBytes) } },
      ],
    },
  };
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: names.secret, namespace: options.namespace, labels },
    data: { [INPUT_KEY]: payload.toString('base64'), [NONCE_KEY]: Buffer.from(nonce).toString('base64') },
  };
  const specHash = createHash('sha256')
    .update(JSON.stringify(pod.spec))
    .update(createHash('sha256').update(payload).digest('hex'))
    .update(nonce) // a pod made with another executor's key has a nonce we cannot check: never adopt it
    .digest('hex')
    .slice(0, 32);
  pod.metadata = { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [ANNOTATIONS.specHash]: specHash } };
  return { pod, secret, image, specHash };
}

/** The Secret, owned by its pod: wherever a garbage collector runs, deleting the pod deletes the Secret too. */
export function ownedSecret(secret: V1Secret, owner: V1Pod): V1Secret {
  const reference: V1OwnerReference = {
    apiVersion: 'v1',
    kind: 'Pod',
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
  };
  return { ...secret, metadata: { ...secret.metadata, ownerReferences: [reference] } };
}

function submissionIdOf(metadataJson: string): string | undefined {
  try {
    const parsed = metadataId.safeParse(JSON.parse(metadataJson));
    return parsed.success && parsed.data.id !== undefined ? String(parsed.data.id) : undefined;
  } catch {
    return undefined; // malformed metadata is the grader's concern, not the pod's
  }
}
