import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import type { RunState } from '../../shared/run-state.js';
import { parseSubmissionId } from '../arguments.js';
import { withDatabase } from '../database.js';
import { CliError } from '../errors.js';
import { writeOut } from '../output/write.js';
import { unknownSubmission } from '../queries/find-submission.js';
import { submissionStatus } from '../queries/submission-status.js';
import { withTemporal } from '../temporal.js';

/** The workflow's `expedite` signal (src/workflows/grade-submission.ts); the CLI does not import workflow code. */
const EXPEDITE_SIGNAL = 'expedite';
/** Runs in these states are over: nothing left to hurry. */
const FINISHED: readonly RunState[] = ['completed', 'failed', 'rejected'];

export function registerExpediteCommand(program: Command): void {
  program
    .command('expedite')
    .description(
      "grade a submission's open runs now: end any wait for a greener hour and take the next free slot before every queued run",
    )
    .argument('<submission-id>', "Gradescope's submission id (`id` in submission_metadata.json)", parseSubmissionId)
    .action(async (submissionId: number) => {
      const config = loadConfig();
      const status = await withDatabase(config, (db) => submissionStatus(db, submissionId));
      if (status === null) throw unknownSubmission(submissionId);
      const open = status.runs.filter((run) => !FINISHED.includes(run.state));
      if (open.length === 0) {
        throw new CliError(
          `submission ${submissionId} has no run still waiting or running: \`rerun ${submissionId} --expedite\` starts one`,
          1,
        );
      }
      await withTemporal(config, async (client) => {
        for (const run of open) await client.workflow.getHandle(run.workflowId).signal(EXPEDITE_SIGNAL);
      });
      writeOut(open.map((run) => `expedited ${run.workflowId} (${run.state})`).join('\n'));
    });
}
