// `npm run bench:grading`: where the time of one graded submission goes, step by step, next to the
// time of the same container started by hand with `docker run`. Needs the services `npm test` starts.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { rawPayloads, submissions } from '../src/db/schema.js';
import { ingestWorkflowId } from '../src/shared/grading-types.js';
import {
  buildGradescopeZip,
  DEFAULT_SOURCE_FILES,
  DEFAULT_SUBMISSION_FILES,
  defaultMetadata,
} from '../test/support/gradescope-zip.js';
import { startGradingStack } from '../test/support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../test/support/publish.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface StepTimes {
  publishMs: number;
  storedMs: number;
  workflowStartedMs: number;
  parsedMs: number;
  imageReadyMs: number;
  containerDoneMs: number;
  recordedMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

async function main(): Promise<void> {
  const stack = await startGradingStack();
  const samples: { cold: boolean; times: StepTimes; imageTag: string }[] = [];
  try {
    // Run 0 warms the process up. Run 1 is a new assignment source (a file no build has seen), so it pays a
    // real image build, as the first submission of an assignment does; runs 2+ reuse that image.
    const newSource = { ...DEFAULT_SOURCE_FILES, 'tests/version.txt': `bench ${Date.now()}\n` };
    for (let i = 0; i <= RUNS + 1; i++) {
      const sourceFiles = i >= 1 ? newSource : DEFAULT_SOURCE_FILES;
      const zip = await buildGradescopeZip({ sourceFiles, hostname: `bench-${i}-${Date.now()}\n` });
      const file = await writeZipFile(zip);
      const t0 = Date.now();
      await mosquittoPub(brokerOf(stack.config), file.path);
      const published = Date.now();
      const workflowId = ingestWorkflowId(file.sha256);
      const runRow = await stack.waitForRun(workflowId);
      if (runRow.outcome !== 'graded') throw new Error(`run ${workflowId} ended ${runRow.outcome}`);
      const [raw] = await stack.database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, file.sha256));
      const [stored] = await stack.database.db
        .select({ storedAt: submissions.storedAt })
        .from(submissions)
        .where(eq(submissions.payloadSha256, file.sha256));
      const started = (await stack.temporal.workflow.getHandle(workflowId).describe()).startTime;
      const at = (date: Date | null | undefined) => (date ? date.getTime() - t0 : NaN);
      samples.push({
        cold: i === 1,
        imageTag: runRow.imageTag ?? '',
        times: {
          publishMs: published - t0,
          storedMs: at(raw?.receivedAt),
          workflowStartedMs: at(started),
          parsedMs: at(stored?.storedAt),
          imageReadyMs: at(runRow.imageReadyAt),
          containerDoneMs: at(runRow.containerFinishedAt),
          recordedMs: at(runRow.recordedAt),
        },
      });
    }
  } finally {
    await stack.stop();
  }

  const warm = samples.slice(2).map((s) => s.times);
  const cold = samples.find((s) => s.cold)?.times;
  const dockerRunMs = await timeDockerRun(samples[0]?.imageTag ?? '');
  const rows: [string, keyof StepTimes][] = [
    ['mosquitto_pub returned', 'publishMs'],
    ['payload stored (raw row)', 'storedMs'],
    ['workflow started', 'workflowStartedMs'],
    ['parsed, anonymised, stored', 'parsedMs'],
    ['image ready', 'imageReadyMs'],
    ['container done', 'containerDoneMs'],
    ['results recorded', 'recordedMs'],
  ];
  const lines = [
    `Grading latency: ms since the publish started (cold = first run of an assignment, image built; warm = median of ${warm.length})`,
    `${'step'.padEnd(28)}${'cold'.padStart(10)}${'warm'.padStart(10)}`,
    ...rows.map(
      ([label, key]) =>
        `${label.padEnd(28)}${(cold?.[key] ?? NaN).toFixed(0).padStart(10)}${median(warm.map((t) => t[key]))
          .toFixed(0)
          .padStart(10)}`,
    ),
    '',
    `docker run of the same image and submission alone (median of ${dockerRunMs.length}): ${median(dockerRunMs).toFixed(0)} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The same grader, limits and files, started with the docker CLI: the floor GreenGrader adds to. */
async function timeDockerRun(imageTag: string): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'gg-bench-'));
  await writeFile(join(dir, 'calculator.py'), String(DEFAULT_SUBMISSION_FILES['calculator.py']));
  await writeFile(join(dir, 'submission_metadata.json'), JSON.stringify(defaultMetadata()));
  const times: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await run('docker', [
        ...['run', '--rm', '--network', 'none', '--memory', '256m', '--memory-swap', '256m'],
        ...['--cpus', '1', '--pids-limit', '256', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'],
        ...['-v', `${dir}/calculator.py:/autograder/submission/calculator.py:ro`],
        ...['-v', `${dir}/submission_metadata.json:/autograder/submission_metadata.json:ro`],
        ...['-w', '/autograder', imageTag, '/autograder/run_autograder'],
      ]);
      times.push(performance.now() - t0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return times;
}

await main();
