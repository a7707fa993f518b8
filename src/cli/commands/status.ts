import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { parseSubmissionId } from '../arguments.js';
import { withDatabase } from '../database.js';
import { formatDuration, formatGrams, formatScore, formatTime, NONE, orNone } from '../../shared/format.js';
import { renderFields, renderTable } from '../output/table.js';
import { writeJson, writeOut } from '../output/write.js';
import { unknownSubmission } from '../queries/find-submission.js';
import type { RunView } from '../queries/run-view.js';
import { submissionStatus, type SubmissionStatus } from '../queries/submission-status.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show a stored submission and each of its grading runs')
    .argument('<submission-id>', "Gradescope's submission id (`id` in submission_metadata.json)", parseSubmissionId)
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (submissionId: number, options: { json?: boolean }) => {
      const config = loadConfig();
      const status = await withDatabase(config, (db) => submissionStatus(db, submissionId));
      if (status === null) throw unknownSubmission(submissionId);
      if (options.json) writeJson(status);
      else writeOut(renderStatus(status));
    });
}

function renderStatus(status: SubmissionStatus): string {
  const blocks: string[] = [];
  for (const payload of status.payloads) {
    blocks.push(
      [
        `Submission ${status.gradescopeSubmissionId}: ${payload.assignmentTitle}`,
        renderFields(
          [
            ['assignment', `${payload.assignmentId} (course ${payload.courseId})`],
            ['submitted', formatTime(payload.gradescopeCreatedAt)],
            ['stored', `${formatTime(payload.storedAt)}${payload.anonymised ? ', anonymised' : ', NOT anonymised'}`],
            ['payload', payload.payloadSha256],
            ['Gradescope score', formatScore(payload.gradescopeScore)],
            ...payload.warnings.map((warning): [string, string] => ['warning', warning]),
          ],
          '  ',
        ),
      ].join('\n'),
    );
  }
  if (status.runs.length === 0) {
    blocks.push('No grading runs yet.');
  } else {
    const numbered = status.runs.map((run, index) => ({ run, number: index + 1 }));
    blocks.push(
      [
        `Runs (${status.runs.length}):`,
        renderTable(numbered, [
          { header: '#', cell: ({ number }) => String(number), align: 'right' },
          { header: 'TRIGGER', cell: ({ run }) => run.trigger },
          { header: 'STATE', cell: ({ run }) => (run.waitingForSlot ? 'queued for a slot' : run.state) },
          { header: 'LANE', cell: ({ run }) => orNone(run.lane) },
          { header: 'OUTCOME', cell: ({ run }) => orNone(run.outcome) },
          { header: 'SCORE', cell: ({ run }) => formatScore(run.score), align: 'right' },
          { header: 'GRADESCOPE', cell: ({ run }) => formatScore(run.gradescopeScore), align: 'right' },
          { header: 'NODE', cell: ({ run }) => orNone(run.nodeName) },
          { header: 'REGION', cell: ({ run }) => orNone(run.region) },
          { header: 'POLICY', cell: ({ run }) => orNone(run.policy) },
          { header: 'RECEIVED', cell: ({ run }) => formatTime(run.receivedAt) },
          { header: 'START', cell: ({ run }) => startOf(run) },
          { header: 'TURNAROUND', cell: ({ run }) => formatDuration(run.turnaroundTimeMs), align: 'right' },
          { header: 'EMISSIONS', cell: ({ run }) => formatGrams(run.emissionsGCo2), align: 'right' },
          { header: 'SAVING', cell: ({ run }) => formatGrams(run.savingGCo2), align: 'right' },
        ]),
        '',
        ...numbered.map(({ run, number }) => {
          const failure = run.failureReason === null ? '' : `\n   ${run.failureReason}`;
          return `${String(number).padStart(2)} ${run.workflowId}${failure}`;
        }),
      ].join('\n'),
    );
  }
  return blocks.join('\n\n');
}

/**
 * When the container started, else when the plan means to start it (a run waiting for a greener hour), marked
 * when capacity pushed the plan past the deadline.
 */
function startOf(run: RunView): string {
  const late = run.deadlineMissed ? ' (after its deadline: no room)' : '';
  if (run.containerStartedAt !== null) return `${formatTime(run.containerStartedAt)}${late}`;
  if (run.plannedStartAt !== null) return `planned ${formatTime(run.plannedStartAt)}${late}`;
  return NONE;
}
