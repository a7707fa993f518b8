import type { ExecutorKind } from '../shared/executor-kind.js';

/** Files by path relative to their folder; `mode` defaults to 0o644. */
export type FileTree = Map<string, { bytes: Uint8Array; mode?: number }>;

/** The limits every grader run gets, whatever runs it. */
export interface GraderLimits {
  timeoutSec: number;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  outputMaxBytes: number;
  resultsMaxBytes: number;
}

/** Everything needed to rebuild Gradescope's layout and run `run_autograder` once. */
export interface AutograderJob {
  runId: string;
  assignmentId: number;
  /** Hash of `autograder/source`: the image cache key. */
  sourceHash: string;
  sourceFiles: FileTree;
  submissionFiles: FileTree;
  metadataJson: string;
  limits: GraderLimits;
}

/** Where inside the executor's own infrastructure a run landed (a cluster node), when it can tell. */
export interface ExecutionPlacement {
  node: string;
  region: string | null;
  zone: string | null;
}

export interface AutograderExecution {
  outcome: 'completed' | 'timeout' | 'out-of-memory' | 'build-failed';
  exitCode: number | null;
  imageTag: string;
  imageBuildMs: number;
  imageReadyAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** CPU time the grader used, for energy accounting; null when it could not be measured. */
  cpuTimeMs: number | null;
  output: string;
  outputTruncated: boolean;
  resultsJson: string | null;
  resultsTruncated: boolean;
  /**
   * Why results.json was refused unread: not a regular file (a FIFO, device or symlink would block or leave the
   * results folder) or over GRADER_RESULTS_MAX_BYTES. Absent when it was read or missing.
   */
  resultsRefusal?: string;
  /** Absent where the node itself is the place (Docker). */
  placement?: ExecutionPlacement;
}

/** Hooks an executor calls so a long run stays visible and can be stopped. */
export interface ExecutionControl {
  heartbeat(phase: string): void;
  abortSignal: AbortSignal;
}

/**
 * Runs one grader somewhere (a Docker engine, a Kubernetes pod). Faults retrying cannot fix throw a
 * NonRetryableExecutorError; any other throw is left to the activity's retry policy.
 */
export interface AutograderExecutor {
  readonly kind: ExecutorKind;
  run(job: AutograderJob, control: ExecutionControl): Promise<AutograderExecution>;
}
