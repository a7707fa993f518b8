import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { parsePositiveInt } from '../arguments.js';
import { withDatabase } from '../database.js';
import { formatScore, formatTime, NONE, orNone } from '../../shared/format.js';
import { renderTable } from '../output/table.js';
import { writeJson, writeOut } from '../output/write.js';
import { listSubmissions, type SubmissionList } from '../queries/list-submissions.js';

const DEFAULT_LIMIT = 50;

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list stored submissions, most recent first, with their latest run')
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIMIT})`, parsePositiveInt)
    .option('--assignment <id>', 'only this Gradescope assignment', parsePositiveInt)
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (options: { limit?: number; assignment?: number; json?: boolean }) => {
      const config = loadConfig();
      const list = await withDatabase(config, (db) =>
        listSubmissions(db, { limit: options.limit ?? DEFAULT_LIMIT, assignmentId: options.assignment }),
      );
      if (options.json) writeJson(list);
      else writeOut(renderList(list));
    });
}

function renderList(list: SubmissionList): string {
  if (list.submissions.length === 0) return 'No stored submissions.';
  return renderTable(list.submissions, [
    { header: 'SUBMISSION', cell: (s) => String(s.gradescopeSubmissionId), align: 'right' },
    { header: 'ASSIGNMENT', cell: (s) => `${s.assignmentId} ${truncate(s.assignmentTitle, 32)}` },
    { header: 'STORED', cell: (s) => formatTime(s.storedAt) },
    { header: 'RUNS', cell: (s) => String(s.runCount), align: 'right' },
    { header: 'LATEST', cell: (s) => (s.latestRun === null ? NONE : latestState(s.latestRun)) },
    { header: 'LANE', cell: (s) => orNone(s.latestRun?.lane ?? null) },
    { header: 'OUTCOME', cell: (s) => orNone(s.latestRun?.outcome ?? null) },
    { header: 'SCORE', cell: (s) => formatScore(s.latestRun?.score ?? null), align: 'right' },
    { header: 'GRADESCOPE', cell: (s) => formatScore(s.gradescopeScore), align: 'right' },
    { header: 'NODE', cell: (s) => orNone(s.latestRun?.nodeName ?? null) },
  ]);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** A run waiting for a free slot reads as such; every other run as its trigger and row state. */
function latestState(run: NonNullable<SubmissionList['submissions'][number]['latestRun']>): string {
  return `${run.trigger} ${run.waitingForSlot ? 'queued for a slot' : run.state}`;
}
