import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns, submissions } from '../db/schema.js';
import { storableJson } from '../db/storable-text.js';
import { activityLogger } from '../observability/activity-logger.js';
import { observeGradingDuration } from '../observability/metrics.js';
import type { ExecutionSummary, GradeSubmissionResult, RunOutcome } from '../shared/grading-types.js';
import { InvalidSubmissionError, parseResultsJson, scoreOf } from '../submission/index.js';
import type { ReleaseSlot } from './slot-release.js';

export function createResultsActivities(db: Database, release: ReleaseSlot) {
  // Built once, sent by name (every run records once).
  const resultsRead = db
    .select({
      resultsJson: gradingRuns.resultsJson,
      resultsTruncated: gradingRuns.resultsTruncated,
      receivedAt: gradingRuns.receivedAt,
      nodeName: gradingRuns.nodeName,
      gradescopeScore: submissions.gradescopeScore,
    })
    .from(gradingRuns)
    .leftJoin(submissions, eq(submissions.id, gradingRuns.submissionId))
    .where(eq(gradingRuns.id, sql.placeholder('runId')))
    .prepare('record_results_read');
  return {
    /**
     * Turns what the grader left behind into the recorded result: score, tests, leaderboard,
     * visibility, times, and Gradescope's original score beside the re-run's.
     */
    async recordResults(input: { runId: string; execution: ExecutionSummary }): Promise<GradeSubmissionResult> {
      const [run] = await resultsRead.execute({ runId: input.runId });
      if (!run) throw new Error(`run ${input.runId} not found`);

      const { execution } = input;
      // results.json is the grader's: its strings may hold characters jsonb refuses (src/db/storable-text.ts).
      const verdict = storableJson(judge(execution, run.resultsJson, run.resultsTruncated ?? false)).value;
      const recordedAt = new Date();
      const started = execution.startedAt ? Date.parse(execution.startedAt) : null;
      const finished = execution.finishedAt ? Date.parse(execution.finishedAt) : null;
      await db
        .update(gradingRuns)
        .set({
          state: 'completed',
          outcome: verdict.outcome,
          score: verdict.score,
          gradescopeScore: run.gradescopeScore,
          tests: verdict.tests,
          leaderboard: verdict.leaderboard,
          visibility: verdict.visibility,
          failureReason: verdict.reason,
          executionTimeMs: started !== null && finished !== null ? finished - started : null,
          turnaroundTimeMs: recordedAt.getTime() - run.receivedAt.getTime(),
          recordedAt,
        })
        .where(eq(gradingRuns.id, input.runId));
      // The run is off its node: a slot still held (the queue's workflows release it earlier) comes free.
      await release(input.runId);
      observeGradingDuration(verdict.outcome, execution.startedAt, execution.finishedAt);
      activityLogger({ runId: input.runId }).info('results recorded', {
        outcome: verdict.outcome,
        score: verdict.score,
        gradescopeScore: run.gradescopeScore,
        nodeName: run.nodeName,
      });
      return {
        state: 'completed',
        runId: input.runId,
        outcome: verdict.outcome,
        score: verdict.score,
        nodeName: run.nodeName,
        reason: verdict.reason,
      };
    },
  };
}

interface Verdict {
  outcome: RunOutcome;
  score: number | null;
  tests: unknown;
  leaderboard: unknown;
  visibility: string | null;
  reason: string | null;
}

/** Gradescope grades from results.json whatever the exit code; only its absence or breakage is an error. */
function judge(execution: ExecutionSummary, resultsJson: string | null, truncated: boolean): Verdict {
  const empty = { score: null, tests: null, leaderboard: null, visibility: null };
  if (execution.outcome === 'timeout')
    return { ...empty, outcome: 'timeout', reason: 'grader exceeded its time limit' };
  if (execution.outcome === 'out-of-memory') {
    return { ...empty, outcome: 'out-of-memory', reason: 'grader exceeded its memory limit' };
  }
  if (execution.outcome === 'build-failed') {
    return { ...empty, outcome: 'build-failed', reason: 'assignment image build failed (see output)' };
  }
  if (execution.resultsRefusal !== undefined) {
    return { ...empty, outcome: 'invalid-results', reason: execution.resultsRefusal };
  }
  // Before the null check: an oversized results.json is refused unread, so it is both null and truncated.
  if (truncated) {
    return {
      ...empty,
      outcome: 'invalid-results',
      reason: 'results.json exceeded its size cap (GRADER_RESULTS_MAX_BYTES; its size is in the output)',
    };
  }
  if (resultsJson === null) {
    return {
      ...empty,
      outcome: 'no-results',
      reason: `run_autograder exited ${execution.exitCode} without results.json`,
    };
  }
  try {
    const results = parseResultsJson(resultsJson);
    return {
      outcome: 'graded',
      score: scoreOf(results),
      tests: results.tests ?? [],
      leaderboard: results.leaderboard ?? [],
      visibility: results.visibility ?? null,
      reason: null,
    };
  } catch (error) {
    if (!(error instanceof InvalidSubmissionError)) throw error;
    return { ...empty, outcome: 'invalid-results', reason: error.message };
  }
}

export type ResultsActivities = ReturnType<typeof createResultsActivities>;
