// `npm run bench:temporal-store`: the Temporal dev server's own CPU per workflow, with its SQLite file as SQLite
// leaves it (rollback journal) and as startTemporal sets it up (DEV_SERVER_TUNING_ARGS), alternated round by round on
// one machine so the two compare under the same load. Each round: a fresh server and database file, N workflows of a
// graded run's shape (bench/temporal-store-workflow.ts) started 16 at a time, signalled, awaited.
//
//   npm run bench:temporal-store [-- --workflows=200 --rounds=2 --json]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { freePort, resolveTemporalCli } from '../src/services/index.js';
import { DEV_SERVER_TUNING_ARGS } from '../src/services/temporal.js';
import { waitFor } from '../test/support/wait-for.js';
import { readProcess } from './proc-stat.js';
import { positiveInteger } from './flag-numbers.js';

// Unknown flags and malformed numbers are refused rather than run with a default.
const { values: args } = parseArgs({
  options: {
    workflows: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const WORKFLOWS = positiveInteger('workflows', args.workflows);
const ROUNDS = positiveInteger('rounds', args.rounds);
/** Starts and signals in flight at once, as a burst through the bridge's starter would have. */
const CONCURRENCY = 16;

const VARIANTS = [
  { name: 'rollback journal (SQLite default)', extraArgs: [] as readonly string[] },
  { name: 'as startTemporal starts it', extraArgs: DEV_SERVER_TUNING_ARGS },
];

interface Round {
  variant: string;
  round: number;
  serverCpuMsPerWorkflow: number;
  wallSec: number;
  loadAverage: number;
}

Runtime.install({ logger: new DefaultLogger('WARN') });
const bundle = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./temporal-store-workflow.ts', import.meta.url)),
  logger: new DefaultLogger('WARN'),
});
const cliPath = await resolveTemporalCli();

async function measure(variant: (typeof VARIANTS)[number], round: number): Promise<Round> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gg-temporal-store-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server = spawn(
    cliPath,
    [
      ...['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'warn'],
      ...['--db-filename', path.join(dir, 'temporal.db'), ...variant.extraArgs],
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => server.once('exit', resolve));
  try {
    const connection = await waitFor(
      async () => {
        const attempt = await Connection.connect({ address, connectTimeout: 1000 }).catch(() => null);
        return (
          attempt &&
          (await attempt.ensureConnected().then(
            () => attempt,
            () => null,
          ))
        );
      },
      { description: `a dev server on ${address}`, intervalMs: 300, timeoutMs: 60_000 },
    );
    const native = await NativeConnection.connect({ address });
    const client = new Client({ connection });
    const taskQueue = `temporal-store-${round}`;
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: bundle,
      activities: { step: (n: number) => Promise.resolve(n) },
    });
    const running = worker.run();
    try {
      const ids = Array.from({ length: WORKFLOWS }, (_, i) => `temporal-store-${round}-${i}`);
      const inBatches = async (each: (id: string) => Promise<unknown>) => {
        for (let i = 0; i < ids.length; i += CONCURRENCY) await Promise.all(ids.slice(i, i + CONCURRENCY).map(each));
      };
      const cpuBefore = readProcess(server.pid ?? -1)?.cpuSec ?? NaN;
      const startedAt = Date.now();
      await inBatches((workflowId) => client.workflow.start('gradedRunShape', { taskQueue, workflowId }));
      await inBatches((workflowId) => client.workflow.getHandle(workflowId).signal('go'));
      await inBatches((workflowId) => client.workflow.getHandle(workflowId).result());
      const cpuSec = (readProcess(server.pid ?? -1)?.cpuSec ?? NaN) - cpuBefore;
      return {
        variant: variant.name,
        round,
        serverCpuMsPerWorkflow: (cpuSec * 1000) / WORKFLOWS,
        wallSec: (Date.now() - startedAt) / 1000,
        loadAverage: os.loadavg()[0] ?? 0,
      };
    } finally {
      worker.shutdown();
      await running;
      await native.close();
      await connection.close();
    }
  } finally {
    server.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

function formatRounds(rounds: Round[]): string {
  const headers = ['variant', 'round', 'server CPU ms per workflow', 'wall s', 'load average'];
  const rows = rounds.map((r) => [
    r.variant,
    String(r.round),
    r.serverCpuMsPerWorkflow.toFixed(1),
    r.wallSec.toFixed(1),
    r.loadAverage.toFixed(1),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const mean = (name: string) => {
    const mine = rounds.filter((r) => r.variant === name);
    return mine.reduce((sum, r) => sum + r.serverCpuMsPerWorkflow, 0) / mine.length;
  };
  const [journal, shipped] = VARIANTS.map((v) => mean(v.name));
  return [
    `bench:temporal-store: ${WORKFLOWS} workflows of a graded run's shape per round, ${os.availableParallelism()} cores`,
    line(headers),
    ...rows.map(line),
    `server CPU per workflow, as startTemporal starts it ÷ SQLite default: ${((shipped ?? NaN) / (journal ?? NaN)).toFixed(2)}`,
  ].join('\n');
}

const rounds: Round[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const variant of VARIANTS) rounds.push(await measure(variant, round));
}
console.log(
  args.json
    ? JSON.stringify({ workflows: WORKFLOWS, tuningArgs: DEV_SERVER_TUNING_ARGS, rounds }, null, 2)
    : formatRounds(rounds),
);
