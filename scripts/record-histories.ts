// Regenerates test/workflows/histories/*.json: runs every GradeSubmission path against fake activities on a real
// Temporal server and saves the server's own history of each run, for the replay test.
//
//   npm run record:histories [-- name ...]      # starts a Temporal dev server (the one with-services.ts starts)
//   TEMPORAL_ADDRESS=127.0.0.1:7233 npm run record:histories   # or uses a running one
//
// Histories of shapes that runs started before a patch may still have are recorded with the workflow of that time
// (taken from git, see legacyPaths), so the replay test keeps proving each `patched()` branch.
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import type { GradeSubmissionResult } from '../src/shared/grading-types.js';
import { startTemporal } from '../src/services/index.js';
import { registerSearchAttributes } from '../src/workers/register-search-attributes.js';
import { historyToJson } from '../test/workflows/support/history-json.js';
import { bundleWorkflows, runScenario, startRig } from '../test/workflows/support/run-scenario.js';
import { paths, type Path } from '../test/workflows/support/scenarios.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const HISTORIES = path.join(REPO, 'test/workflows/histories');
/** An hour of the scenarios lasts a second here: waits are real on a dev server. */
const HOUR_MS = 1000;
/** The last commit whose workflow started plans within 1 s of now at once. */
const BEFORE_NEVER_EARLY = '882aeb4^';
/** The last commit before the release-failed-node-slot and fail-row-on-workflow-failure patches. */
const BEFORE_SLOT_RELEASE = 'c855369';
/**
 * The last commit whose workflow scheduled its central activities as tasks and wrote every state: the histories
 * under a path's own name keep that shape; the local-activities era's are `NAME-local`.
 */
const BEFORE_LOCAL_ACTIVITIES = '3dbe49b';
const LOCAL_SUFFIX = '-local';
/**
 * The last commit whose workflow ran each central activity as its own local activity: `NAME-local` keeps that
 * shape; today's code (back-to-back steps combined) records each path as `NAME-combined`.
 */
const BEFORE_COMBINED_STEPS = 'ea23328';
const COMBINED_SUFFIX = '-combined';
/** Paths today's code records (node-failed-other-node is the same scenario as …-releases-slot, so the same history). */
function todaysPaths(): [string, Path][] {
  return Object.entries(paths(HOUR_MS)).filter(
    ([name]) => name !== 'node-failed-other-node' && !LONG_SLOT_POLL_ERA.includes(name),
  );
}
/**
 * The last commit whose queued runs polled on a backoff from 2 s: `queued-then-claimed-local` keeps that shape
 * (timers fired every few seconds), today's queued runs are woken by signals (`queued-then-woken-local`).
 */
const BEFORE_LONG_SLOT_POLL = '95fc521';
/** Recorded with the workflow of BEFORE_LONG_SLOT_POLL: today's fallback poll would take minutes of real time. */
const LONG_SLOT_POLL_ERA = ['queued-then-claimed'];

/**
 * Waits, then re-plans to a start 800 ms ahead: inside the old 1 s tolerance, so the old code starts at once where
 * today's code waits. The 800 ms leaves room for the server's latency between the plan and the next workflow task.
 */
const legacyPath: Path = {
  scenario: {
    nodes: ['alpha'],
    plan: (() => {
      let closeStartMs: number | null = null;
      return ({ round, nowMs }) => {
        if (round === 1) return { nodeName: 'alpha', startMs: nowMs + 2 * HOUR_MS, nextPlanningMs: nowMs + HOUR_MS };
        closeStartMs ??= nowMs + 800;
        return { nodeName: 'alpha', startMs: closeStartMs, nextPlanningMs: closeStartMs };
      };
    })(),
  },
  drive: (run) => run.handle.result() as Promise<GradeSubmissionResult>,
};

interface Era {
  ref: string;
  paths: [string, Path][];
  /** The whole workflow folder of `ref`, not only grade-submission.ts (its helpers changed signature since). */
  wholeFolder?: boolean;
}

/** Paths whose committed history is the pre-patch shape: recorded with the workflow as it was at `ref`. */
function legacyPaths(): Era[] {
  const today = paths(HOUR_MS);
  const before = (names: string[]): [string, Path][] => names.map((name) => [name, today[name] as Path]);
  const slotReleaseEra = ['node-failed-other-node', 'pickup-timeout-other-node', 'nodes-exhausted'];
  return [
    { ref: BEFORE_NEVER_EARLY, paths: [['waited-before-never-early', legacyPath]] },
    { ref: BEFORE_SLOT_RELEASE, paths: before(slotReleaseEra) },
    {
      ref: BEFORE_LOCAL_ACTIVITIES,
      // Paths added since have no shape from before: their code did not exist then.
      paths: before(
        Object.keys(today).filter(
          (name) => !slotReleaseEra.includes(name) && !['queued-then-woken', 'queued-then-spilled'].includes(name),
        ),
      ),
      wholeFolder: true,
    },
    {
      ref: BEFORE_COMBINED_STEPS,
      // queued-then-spilled-local was recorded with the single steps and the wake at the spill time together
      // (branch work merged after this era): this ref has no such wake, so it would wait out the 5-min fallback.
      paths: todaysPaths()
        .filter(([name]) => name !== 'queued-then-spilled')
        .map(([name, recorded]): [string, Path] => [`${name}${LOCAL_SUFFIX}`, recorded]),
      wholeFolder: true,
    },
    {
      ref: BEFORE_LONG_SLOT_POLL,
      paths: LONG_SLOT_POLL_ERA.map((name): [string, Path] => [`${name}${LOCAL_SUFFIX}`, today[name] as Path]),
      wholeFolder: true,
    },
  ];
}

async function main(): Promise<void> {
  // Only the dev server is needed: the activities are fakes, so no database, broker or Docker.
  const server = process.env.TEMPORAL_ADDRESS ? undefined : await startTemporal({});
  const address = process.env.TEMPORAL_ADDRESS ?? server?.address ?? '';
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const wanted = new Set(process.argv.slice(2));
  const include = (name: string): boolean => wanted.size === 0 || wanted.has(name);

  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  await registerSearchAttributes(connection, 'default');
  await mkdir(HISTORIES, { recursive: true });

  const record = async (bundlePath: string | undefined, named: [string, Path][]): Promise<void> => {
    if (named.length === 0) return;
    const rig = await startRig({ client, connection, namespace: 'default', bundle: await bundleWorkflows(bundlePath) });
    try {
      for (const [name, recorded] of named) {
        const startedAt = Date.now();
        const history = await runScenario(rig, recorded.scenario, async (run) => {
          await recorded.drive(run);
          return run.handle.fetchHistory();
        });
        await writeFile(path.join(HISTORIES, `${name}.json`), `${historyToJson(history)}\n`);
        console.log(`${name}: ${history.events?.length ?? 0} events in ${Date.now() - startedAt} ms`);
      }
    } finally {
      await rig.stop();
    }
  };

  await record(
    undefined,
    todaysPaths()
      .map(([name, recorded]): [string, Path] => [`${name}${COMBINED_SUFFIX}`, recorded])
      .filter(([name]) => include(name)),
  );
  for (const era of legacyPaths()) {
    const named = era.paths.filter(([name]) => include(name));
    if (named.length === 0) continue;
    const workflow = era.wholeFolder ? await checkOutLegacyFolder(era.ref) : await checkOutLegacyWorkflow(era.ref);
    try {
      await record(workflow.entry, named);
    } finally {
      await workflow.cleanup();
    }
  }
  await connection.close();
  await client.connection.close();
  await server?.stop();
}

/**
 * Writes the workflow as it was at `ref` next to today's (its relative imports then resolve) with an entry exporting
 * it as GradeSubmission; removed again after recording.
 */
async function checkOutLegacyWorkflow(ref: string): Promise<{ entry: string; cleanup(): Promise<void> }> {
  const dir = path.join(REPO, 'src/workflows');
  const source = execFileSync('git', ['show', `${ref}:src/workflows/grade-submission.ts`], {
    cwd: REPO,
    encoding: 'utf8',
  });
  const workflowFile = path.join(dir, 'legacy-workflow.tmp.ts');
  const entryFile = path.join(dir, 'legacy-index.tmp.ts');
  await writeFile(workflowFile, source);
  await writeFile(
    entryFile,
    "export { gradeSubmissionWorkflow as GradeSubmission } from './legacy-workflow.tmp.js';\n",
  );
  return {
    entry: entryFile,
    cleanup: async () => {
      await rm(workflowFile, { force: true });
      await rm(entryFile, { force: true });
    },
  };
}

/**
 * Writes every file of src/workflows as it was at `ref` into a sibling folder (its `../shared` imports then resolve
 * to today's declarations) and bundles its own index; removed again after recording.
 */
async function checkOutLegacyFolder(ref: string): Promise<{ entry: string; cleanup(): Promise<void> }> {
  const dir = path.join(REPO, `src/workflows-${ref}.tmp`);
  const files = execFileSync('git', ['ls-tree', '--name-only', `${ref}:src/workflows`], { cwd: REPO, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file.endsWith('.ts'));
  await mkdir(dir, { recursive: true });
  for (const file of files) {
    const source = execFileSync('git', ['show', `${ref}:src/workflows/${file}`], { cwd: REPO, encoding: 'utf8' });
    await writeFile(path.join(dir, file), source);
  }
  return {
    entry: path.join(dir, 'index.ts'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

await main();
