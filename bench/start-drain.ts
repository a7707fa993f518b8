// `npm run bench:start-drain [-- --rows N] [--window N] [--rounds N] [--json]`: where a start's time and CPU go
// while the bridge's starter drains a backlog of pending rows, next to Temporal's own start rate measured on the
// same server just before and just after each drain (the same client process, the same concurrency). Per start:
// SQL statements the starter sent, CPU of this process (the starter) and of the Temporal server, and how full the
// window stayed. PostgreSQL and the Temporal dev server come from scripts/with-services.ts.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { CleanupStack } from '../src/app/cleanup-stack.js';
import { connectTemporalClient } from '../src/app/temporal-connections.js';
import { startWorkflowStarter } from '../src/bridge/workflow-starter.js';
import { loadConfig } from '../src/config/config.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createLogger } from '../src/observability/logger.js';
import { createCountingDatabase } from '../test/support/counting-database.js';
import { requireEnv } from '../test/support/env.js';
import { createFreshDatabase } from '../test/support/fresh-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../test/support/pending-payloads.js';
import { waitFor } from '../test/support/wait-for.js';
import { measureTemporalStarts } from './ingest-baselines.js';
import { listenerOf, readThreads } from './proc-stat.js';

interface DrainRound {
  ownBeforePerSec: number;
  drainPerSec: number;
  ownAfterPerSec: number;
  statementsPerStart: number;
  starterCpuMsPerStart: number;
  temporalCpuMsPerStart: number;
  ownStarterCpuMsPerStart: number;
  ownTemporalCpuMsPerStart: number;
  meanInFlight: number;
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000' },
    window: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const window = Number(values.window);
const rounds = Number(values.rounds);
for (const [name, value] of Object.entries({ rows, window, rounds })) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
}

const address = requireEnv('TEMPORAL_ADDRESS');
const temporalPid = await listenerOf(Number(address.split(':').at(-1)));
if (temporalPid === null) throw new Error(`no process listens on ${address}`);
const cpuOf = (pid: number) => readThreads(pid).reduce((sum, t) => sum + t.cpuSec, 0);
const selfCpuSec = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** CPU seconds of this process and of the Temporal server while `work` runs. */
async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; selfSec: number; temporalSec: number }> {
  const [self0, temporal0] = [selfCpuSec(), cpuOf(temporalPid as number)];
  const result = await work();
  return { result, selfSec: selfCpuSec() - self0, temporalSec: cpuOf(temporalPid as number) - temporal0 };
}

const cleanup = new CleanupStack(() => undefined);
try {
  // The product's own client (its retry interceptor and reconnect settings), shared by both measurements.
  const base = await connectTemporalClient(loadConfig({ TEMPORAL_ADDRESS: address }), cleanup);
  let inFlight = 0;
  const inFlightSamples: number[] = [];
  const probe: WorkflowClientInterceptor = {
    async startWithDetails(input, next) {
      inFlight += 1;
      try {
        return await next(input);
      } finally {
        inFlight -= 1;
      }
    },
  };
  const temporal = new Client({ connection: base.connection, interceptors: { workflow: [probe] } });
  const plain = new Client({ connection: base.connection });
  await measureTemporalStarts(plain, 200, 16); // warm-up: shard and namespace caches
  const results: DrainRound[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    const migrating = connectDatabase(fresh.url, { maxConnections: 1 });
    await migrateDatabase(migrating.pool).finally(() => migrating.close());
    const counting = createCountingDatabase(fresh.url);
    try {
      const own = () => withCpu(() => measureTemporalStarts(plain, rows, window));
      const before = await own();
      await commitPendingPayloads(counting.db, rows);
      const statements0 = counting.statements();
      const sampler = setInterval(() => inFlightSamples.push(inFlight), 5);
      inFlightSamples.length = 0;
      const drain = await withCpu(async () => {
        const t0 = Date.now();
        const starter = startWorkflowStarter({
          db: counting.db,
          temporal,
          taskQueue: `start-drain-${randomUUID().slice(0, 8)}`,
          logger: createLogger({}, () => undefined),
          window,
        });
        starter.poke();
        await waitFor(async () => (await startedPayloadCount(counting.uncounted)) === rows, {
          description: `${rows} rows started`,
          timeoutMs: 10 * 60_000,
          intervalMs: 100,
        });
        const ms = Date.now() - t0;
        await starter.stop();
        return ms;
      });
      clearInterval(sampler);
      const after = await own();
      results.push({
        ownBeforePerSec: before.result.perSecond,
        drainPerSec: rows / (drain.result / 1000),
        ownAfterPerSec: after.result.perSecond,
        statementsPerStart: (counting.statements() - statements0) / rows,
        starterCpuMsPerStart: (drain.selfSec * 1000) / rows,
        temporalCpuMsPerStart: (drain.temporalSec * 1000) / rows,
        ownStarterCpuMsPerStart: ((before.selfSec + after.selfSec) * 1000) / (2 * rows),
        ownTemporalCpuMsPerStart: ((before.temporalSec + after.temporalSec) * 1000) / (2 * rows),
        meanInFlight: inFlightSamples.reduce((a, b) => a + b, 0) / Math.max(1, inFlightSamples.length),
      });
    } finally {
      await counting.close();
      await fresh.drop();
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ rows, window, results }, null, 2)}\n`);
  else process.stdout.write(formatRounds(results));
} finally {
  await cleanup.runAll();
}

function formatRounds(results: DrainRound[]): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const header = [
    'round',
    'own before/s',
    'drain/s',
    'own after/s',
    'drain ÷ mean own',
    'SQL/start',
    'in flight',
    'starter CPU ms/start (own)',
    'Temporal CPU ms/start (own)',
  ];
  const lines = results.map((r, i) => [
    String(i + 1),
    f(r.ownBeforePerSec),
    f(r.drainPerSec),
    f(r.ownAfterPerSec),
    `${f((100 * r.drainPerSec) / ((r.ownBeforePerSec + r.ownAfterPerSec) / 2), 0)} %`,
    f(r.statementsPerStart, 3),
    f(r.meanInFlight),
    `${f(r.starterCpuMsPerStart, 2)} (${f(r.ownStarterCpuMsPerStart, 2)})`,
    `${f(r.temporalCpuMsPerStart, 2)} (${f(r.ownTemporalCpuMsPerStart, 2)})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [
    `bench:start-drain: ${rows} pending rows, window ${window}, Temporal dev server at ${address}; ` +
      `own = ${rows} bare starts, ${window} at once, same client, right before and after each drain`,
    row(header),
    ...lines.map(row),
    '',
  ].join('\n');
}
