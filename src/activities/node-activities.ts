import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { gradingRuns, submissions } from '../db/schema.js';
import { storableText } from '../db/storable-text.js';
import type { AutograderExecution, AutograderExecutor, FileTree, GraderLimits } from '../executors/executor.js';
import { NonRetryableExecutorError } from '../executors/executor-error.js';
import type { ExecutionSummary } from '../shared/grading-types.js';
import { unpackStoredSubmission } from '../submission/index.js';
import { createHeartbeatPacer } from './heartbeat-pacer.js';
import { beginAttemptValues, writeAsAttempt } from './run-attempt-fence.js';

function graderLimits(config: Config): GraderLimits {
  return {
    timeoutSec: config.GRADER_TIMEOUT_SEC,
    memoryBytes: config.GRADER_MEMORY_BYTES,
    nanoCpus: config.GRADER_NANO_CPUS,
    pidsLimit: config.GRADER_PIDS_LIMIT,
    outputMaxBytes: config.GRADER_STDOUT_MAX_BYTES,
    resultsMaxBytes: config.GRADER_RESULTS_MAX_BYTES,
  };
}

/** Activities that run on one worker node, on that node's own task queue. */
export function createNodeActivities(db: Database, executor: AutograderExecutor, config: Config) {
  // Built once, sent by name: the attempt begins (beginAttempt's fencing token, run-attempt-fence.ts) in the same
  // statement that reads the stored zip to grade.
  const beginWithZip = db
    .update(gradingRuns)
    .set(beginAttemptValues)
    .from(submissions)
    .where(and(eq(gradingRuns.id, sql.placeholder('runId')), eq(submissions.id, sql.placeholder('submissionId'))))
    .returning({ attempt: gradingRuns.attempts, zip: submissions.zip, assignmentId: submissions.assignmentId })
    .prepare('begin_attempt_with_zip');
  return {
    /**
     * Re-runs the stored submission's autograder on this node. Writes the (capped) output and
     * results.json to the run row and returns only small figures. Engine faults throw and are retried;
     * a grader that crashes, times out or runs out of memory is a result.
     */
    async runAutograder(input: { runId: string; submissionId: string }): Promise<ExecutionSummary> {
      const context = Context.current();
      // Paced from here, the activity's start, since Temporal counts the run's silence from then.
      const heartbeat = createHeartbeatPacer({
        heartbeatTimeoutMs: context.info.heartbeatTimeoutMs,
        send: (phase) => context.heartbeat({ phase }),
      });
      const [stored] = await beginWithZip.execute({ runId: input.runId, submissionId: input.submissionId });
      if (!stored) throw new Error(`run ${input.runId} or its submission ${input.submissionId} not found`);
      // The stored zip was validated and anonymised at ingestion; this only unpacks it again.
      const parsed = await unpackStoredSubmission(stored.zip, {
        maxEntries: config.MAX_ZIP_ENTRIES,
        maxUncompressedBytes: config.MAX_UNCOMPRESSED_BYTES,
      });
      const { attempt } = stored;

      const execution = await runMappingErrors(executor, () =>
        executor.run(
          {
            runId: input.runId,
            assignmentId: stored.assignmentId,
            sourceHash: parsed.sourceHash,
            sourceFiles: asTree(parsed.sourceFiles, true),
            submissionFiles: asTree(parsed.submissionFiles, false),
            metadataJson: JSON.stringify(parsed.metadata, null, 2),
            limits: graderLimits(config),
          },
          { heartbeat, abortSignal: context.cancellationSignal },
        ),
      );
      const { placement } = execution;

      await writeAsAttempt(db, input.runId, attempt, {
        state: 'recording',
        executor: executor.kind,
        executorNode: placement?.node ?? null,
        executorRegion: placement?.region ?? null,
        executorZone: placement?.zone ?? null,
        imageTag: execution.imageTag || null,
        imageBuildMs: execution.imageBuildMs,
        imageReadyAt: execution.imageReadyAt,
        containerStartedAt: execution.startedAt,
        containerFinishedAt: execution.finishedAt,
        exitCode: execution.exitCode,
        cpuTimeMs: execution.cpuTimeMs,
        // A grader may print NUL bytes; PostgreSQL's text cannot hold them.
        output: storableText(execution.output).text,
        outputTruncated: execution.outputTruncated,
        resultsJson: execution.resultsJson === null ? null : storableText(execution.resultsJson).text,
        resultsTruncated: execution.resultsTruncated,
      });
      return {
        outcome: execution.outcome,
        exitCode: execution.exitCode,
        imageTag: execution.imageTag,
        startedAt: execution.startedAt?.toISOString() ?? null,
        finishedAt: execution.finishedAt?.toISOString() ?? null,
        cpuTimeMs: execution.cpuTimeMs,
        ...(execution.resultsRefusal === undefined ? {} : { resultsRefusal: execution.resultsRefusal }),
      };
    },
  };
}

/**
 * Runs the executor, turning faults that another attempt on this node cannot fix into non-retryable failures of
 * the executor's own type: the workflow then gives this node up at once and moves to the next candidate. Every
 * other fault stays retryable (INFRA_MAX_ATTEMPTS on this node).
 */
async function runMappingErrors(
  executor: AutograderExecutor,
  run: () => Promise<AutograderExecution>,
): Promise<AutograderExecution> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof NonRetryableExecutorError)) throw error;
    throw ApplicationFailure.nonRetryable(`${executor.kind} executor: ${error.message}`, error.type);
  }
}

/** Scripts with a `#!` line keep an executable bit, as they had on the instructor's machine. */
function asTree(files: Map<string, Uint8Array>, executableScripts: boolean): FileTree {
  const tree: FileTree = new Map();
  for (const [path, bytes] of files) {
    const isScript = executableScripts && bytes[0] === 0x23 && bytes[1] === 0x21;
    tree.set(path, { bytes, mode: isScript ? 0o755 : 0o644 });
  }
  return tree;
}

export type NodeActivities = ReturnType<typeof createNodeActivities>;
