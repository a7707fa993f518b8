// `npm run bench:batch`: N submissions of a CPU-bound grader published as one burst through MQTT to one node with
// as many slots as the machine has cores, graded with carbon waits off (MAX_DELAY_SEC=0, no provider), so the
// makespan measures queueing only. Compares the makespan with the ideal: total container CPU ÷ cores.
// Scenarios: the default pickup timeout; NODE_PICKUP_TIMEOUT_SEC=30; a second node registered mid-batch.
//
//   npm run bench:batch [-- --runs=200 --cpu-sec=3 --json --only=one-node,pickup-30,second-node --timeout-min=30]
import { parseArgs } from 'node:util';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { gradingRuns } from '../src/db/schema.js';
import { ingestWorkflowId } from '../src/shared/grading-types.js';
import { cpuGraderZip } from '../test/support/cpu-grader.js';
import { startGradingStack, type GradingStack } from '../test/support/grading-stack.js';
import { brokerOf, mosquittoPubAll, writeZipFile } from '../test/support/publish.js';
import { waitFor } from '../test/support/wait-for.js';
import { formatBreakdown, type CpuBreakdown } from './cpu-breakdown.js';
import { startSamplerProcess } from './cpu-sampler-process.js';
import { countHistories, formatHistoryCounts, type HistoryCounts } from './history-counts.js';
import { formatRequests, requestsBetween, temporalRequests, type RequestCounts } from './temporal-requests.js';
import { positiveNumber } from './flag-numbers.js';

// Unknown flags and malformed numbers are refused: a typo must not run 200 runs with a default.
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    'cpu-sec': { type: 'string', default: '3' },
    cores: { type: 'string', default: String(os.availableParallelism()) },
    json: { type: 'boolean', default: false },
    'timeout-min': { type: 'string' },
    timeline: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const RUNS = positiveNumber('runs', args.runs);
const CPU_SEC = positiveNumber('cpu-sec', args['cpu-sec']);
const CORES = positiveNumber('cores', args.cores);
const JSON_OUT = args.json;
/** Minutes to wait for the burst to finish; by default 30, or 20 × the ideal makespan when longer. */
const TIMEOUT_MIN = args['timeout-min'] === undefined ? undefined : positiveNumber('timeout-min', args['timeout-min']);
/** Other jobs on the machine slow the makespan; the CPU breakdown per run holds up. Printed for context. */
const LOAD_AT_START = os.loadavg()[0] ?? 0;

interface Scenario {
  name: string;
  env: Record<string, string>;
  /** A second node joins once this fraction of the ideal makespan has passed. */
  secondNodeAt?: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'one-node', env: {} },
  { name: 'pickup-30', env: { NODE_PICKUP_TIMEOUT_SEC: '30' } },
  { name: 'second-node', env: {}, secondNodeAt: 0.25 },
];

interface Result {
  scenario: string;
  runs: number;
  graded: number;
  failed: number;
  makespanSec: number;
  idealSec: number;
  ratio: number;
  /** Runs each node graded. */
  perNode: Record<string, number>;
  maxQueueWaitSec: number;
  /** Mean time a node's slot stood empty between one grader ending and the next starting: the per-run handoff. */
  meanHandoffSec: number;
  /** Mean time from a grader's end to its run's recorded result (reading figures, storing, the workflow). */
  meanExitToRecordedSec: number;
  /** Core-seconds per component of the stack over the burst (bench/cpu-breakdown.ts). */
  cpu: CpuBreakdown;
  /** Temporal frontend requests over the burst, by operation (empty when the server's /metrics was not found). */
  temporalRequests: RequestCounts;
  /** Events in the burst's workflow histories (every run of each workflow). */
  history: HistoryCounts;
}

type ZipFile = Awaited<ReturnType<typeof writeZipFile>>;

async function writeBurst(count: number, label: string): Promise<ZipFile[]> {
  const files = [];
  for (let i = 0; i < count; i++)
    files.push(await writeZipFile(await cpuGraderZip(CPU_SEC, `${label}-${i}-${randomUUID()}`)));
  return files;
}

async function publishBurst(stack: GradingStack, files: ZipFile[]): Promise<string[]> {
  // One mosquitto_pub per zip, as the Gradescope hook does; a few at a time so the publisher is the burst's pace.
  await mosquittoPubAll(
    brokerOf(stack.config),
    files.map((file) => file.path),
    8,
  );
  return files.map((file) => ingestWorkflowId(file.sha256));
}

async function runScenario(scenario: Scenario): Promise<Result> {
  const stack = await startGradingStack({
    env: {
      NODE_MAX_CONCURRENT_RUNS: String(CORES),
      GRADER_NANO_CPUS: '1000000000',
      // Generous: on a shared machine a CPU-bound grader gets a fraction of a core; a timeout would not be queueing.
      GRADER_TIMEOUT_SEC: String(Math.max(120, CPU_SEC * 40)),
      PLACEMENT_POLICY: 'immediate-home',
      ...scenario.env,
    },
  });
  try {
    const { db } = stack.database;
    // The assignment's image is built once before the burst: the makespan measures queueing, not one build.
    const [warm] = await publishBurst(stack, await writeBurst(1, 'warm-up'));
    await stack.waitForRun(warm ?? '', (run) => run.state === 'completed' || run.state === 'failed', 300_000);
    const files = await writeBurst(RUNS, scenario.name);
    const sampler = await startSamplerProcess({
      stackPid: process.pid,
      // The burst's mosquitto_pub processes are this process's children: counted when reaped, not "unattributed".
      publisherParentPid: process.pid,
      servicePorts: servicePorts(stack),
      nodeNamePrefix: stack.config.NODE_NAME,
    });
    const requests = await temporalRequests(servicePorts(stack).temporal ?? 0);
    const readRequests = () =>
      requests?.read().catch((error: unknown) => {
        process.stderr.write(`could not read Temporal's request counters: ${String(error)}\n`);
        return {};
      }) ?? Promise.resolve({});
    const requestsAtStart = await readRequests();
    const t0 = Date.now();
    const burst = new Set(await publishBurst(stack, files));
    const idealSec = (RUNS * CPU_SEC) / CORES;
    const joined: { secondNode?: Promise<unknown> } = {};
    await waitFor(
      async () => {
        if (
          scenario.secondNodeAt !== undefined &&
          !joined.secondNode &&
          Date.now() - t0 > idealSec * scenario.secondNodeAt * 1000
        ) {
          joined.secondNode = stack.startNode();
        }
        const [done] = await db
          .select({
            count: sql<number>`count(*) filter (where ${gradingRuns.state} in ('completed', 'failed', 'rejected'))::int`,
          })
          .from(gradingRuns);
        return (done?.count ?? 0) >= RUNS + 1 ? true : null;
      },
      // Generous: on a machine shared with other jobs, graders get a fraction of a core.
      {
        description: `${RUNS} runs finished`,
        intervalMs: 500,
        timeoutMs: TIMEOUT_MIN === undefined ? Math.max(1_800_000, idealSec * 20_000) : TIMEOUT_MIN * 60_000,
      },
    );
    await joined.secondNode;
    const rows = (await db.select().from(gradingRuns)).filter((row) => burst.has(row.workflowId));
    const breakdown = await sampler.stop(rows.reduce((sum, row) => sum + (row.cpuTimeMs ?? 0), 0) / 1000);
    const requestsOverBurst = requestsBetween(requestsAtStart, await readRequests());
    // Read after the CPU window: fetching the histories is the bench's own load on the server.
    const history = await countHistories(stack.temporal, [...burst]);
    const lastMs = Math.max(...rows.map((row) => row.recordedAt?.getTime() ?? 0));
    const cpuSec = rows.reduce((sum, row) => sum + (row.cpuTimeMs ?? 0), 0) / 1000;
    const measuredIdealSec = cpuSec / CORES;
    const perNode: Record<string, number> = {};
    for (const row of rows) perNode[row.nodeName ?? '-'] = (perNode[row.nodeName ?? '-'] ?? 0) + 1;
    const makespanSec = (lastMs - t0) / 1000;
    if (args.timeline) {
      const at = (d: Date | null) => (d ? ((d.getTime() - t0) / 1000).toFixed(1) : '-');
      for (const row of [...rows].sort((a, b) => (a.placedAt?.getTime() ?? 0) - (b.placedAt?.getTime() ?? 0))) {
        process.stderr.write(
          `${row.nodeName} received ${at(row.receivedAt)} placed ${at(row.placedAt)} container ${at(row.containerStartedAt)}-${at(row.containerFinishedAt)} recorded ${at(row.recordedAt)} cpu ${row.cpuTimeMs}\n`,
        );
      }
    }
    const exitToRecorded = rows.flatMap((row) =>
      row.containerFinishedAt && row.recordedAt ? [row.recordedAt.getTime() - row.containerFinishedAt.getTime()] : [],
    );
    return {
      scenario: scenario.name,
      runs: rows.length,
      graded: rows.filter((row) => row.outcome === 'graded').length,
      failed: rows.filter((row) => row.state === 'failed').length,
      makespanSec,
      idealSec: measuredIdealSec,
      ratio: makespanSec / measuredIdealSec,
      perNode,
      maxQueueWaitSec: Math.max(
        ...rows.map((row) => ((row.placedAt?.getTime() ?? 0) - row.receivedAt.getTime()) / 1000),
      ),
      meanHandoffSec: mean(handoffGapsMs(rows, CORES)) / 1000,
      meanExitToRecordedSec: mean(exitToRecorded) / 1000,
      cpu: breakdown,
      temporalRequests: requestsOverBurst,
      history,
    };
  } finally {
    await stack.stop();
  }
}

/** The ports of the services with-services started for this bench, to tell them from other jobs' copies. */
function servicePorts(stack: GradingStack): { temporal?: number; postgres?: number; mosquitto?: number } {
  const port = (url: string) => {
    const parsed = new URL(url.includes('://') ? url : `tcp://${url}`);
    return parsed.port === '' ? undefined : Number(parsed.port);
  };
  return {
    temporal: port(stack.config.TEMPORAL_ADDRESS),
    postgres: port(stack.config.DATABASE_URL),
    mosquitto: port(stack.config.MQTT_URL),
  };
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Per node, for each grader that started once its node's slots were all in use: how long after the latest grader
 * end before it the slot stood empty. A node whose next run is ready starts it at once (about 0).
 */
function handoffGapsMs(
  rows: { nodeName: string | null; containerStartedAt: Date | null; containerFinishedAt: Date | null }[],
  slots: number,
): number[] {
  const byNode = new Map<string, { start: number; end: number }[]>();
  for (const row of rows) {
    if (!row.containerStartedAt || !row.containerFinishedAt) continue;
    const spans = byNode.get(row.nodeName ?? '-') ?? [];
    spans.push({ start: row.containerStartedAt.getTime(), end: row.containerFinishedAt.getTime() });
    byNode.set(row.nodeName ?? '-', spans);
  }
  const gaps: number[] = [];
  for (const spans of byNode.values()) {
    spans.sort((a, b) => a.start - b.start);
    spans.forEach((span, i) => {
      if (i < slots) return;
      const before = spans.filter((other) => other.end <= span.start).map((other) => other.end);
      if (before.length > 0) gaps.push(span.start - Math.max(...before));
    });
  }
  return gaps;
}

function formatTable(results: Result[]): string {
  const headers = [
    'scenario',
    'graded',
    'failed',
    'makespan s',
    'ideal s',
    'ratio',
    'longest queue wait s',
    'handoff s',
    'exit→recorded s',
    'per node',
  ];
  const rows = results.map((r) => [
    r.scenario,
    `${r.graded}/${r.runs}`,
    String(r.failed),
    r.makespanSec.toFixed(1),
    r.idealSec.toFixed(1),
    r.ratio.toFixed(3),
    r.maxQueueWaitSec.toFixed(1),
    r.meanHandoffSec.toFixed(2),
    r.meanExitToRecordedSec.toFixed(2),
    Object.values(r.perNode).join(' + '),
  ]);
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [
    `bench:batch: ${RUNS} submissions × ${CPU_SEC} s of CPU, ${CORES} cores, NODE_MAX_CONCURRENT_RUNS=${CORES}; ideal = container CPU ÷ cores`,
    line(headers),
    ...rows.map(line),
    '',
    `CPU per graded run, sampled from /proc over the burst (load average at start ${LOAD_AT_START.toFixed(2)})`,
    formatBreakdown(results.map((r) => ({ scenario: r.scenario, graded: r.graded, breakdown: r.cpu }))),
    '',
    formatHistoryCounts(results.map((r) => ({ scenario: r.scenario, counts: r.history }))),
    '',
    formatRequests(results.map((r) => ({ scenario: r.scenario, graded: r.graded, requests: r.temporalRequests }))),
  ].join('\n');
}

async function main(): Promise<void> {
  const only = args.only?.split(',');
  const results: Result[] = [];
  for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
    results.push(await runScenario(scenario));
    if (!JSON_OUT) process.stderr.write(`${scenario.name} done\n`);
  }
  console.log(
    JSON_OUT
      ? JSON.stringify(
          { runs: RUNS, cpuSec: CPU_SEC, cores: CORES, loadAverageAtStart: LOAD_AT_START, results },
          null,
          2,
        )
      : formatTable(results),
  );
}

await main();
