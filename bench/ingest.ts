// `npm run bench:ingest [-- --json] [--outage-sec N] [--only small,large,burst,outage] [--temporal dev|compose|both]
// [--cpu-prof-dir DIR]`:
// how fast the bridge takes a burst of real `mosquitto_pub -q 1` publishes off a DEFAULT-config Mosquitto, next to
// a store-only loop and Temporal's own start rate measured in the same run. PostgreSQL comes from
// scripts/with-services.ts; the broker and the Temporal server are the bench's own (the outage scenario stops and
// restarts Temporal): the dev server, or the compose stack's server with PostgreSQL persistence.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startDefaultMosquitto } from '../test/support/default-mosquitto.js';
import { requireEnv } from '../test/support/env.js';
import {
  measureStartsAfterRestart,
  measureStartsWhilePublishing,
  measureStoreOnly,
  measureTemporalStarts,
} from './ingest-baselines.js';
import { writePayloadFiles } from './ingest-payloads.js';
import type { PayloadFile } from './ingest-publish.js';
import { runScenario, type ScenarioSetup } from './ingest-scenario.js';
import { formatIngestReport, type IngestReport } from './ingest-table.js';
import { startBenchTemporal, TEMPORAL_KINDS, type TemporalKind } from './ingest-temporal.js';

const SCENARIOS = ['small', 'large', 'burst', 'outage'] as const;
/** Temporal's own start rate: this many bare starts, this many at once (the bridge's default window). */
const OWN_STARTS = 300;
const OWN_CONCURRENCY = 32;
/** The outage scenario's burst, and the message after which Temporal stops: the rest is its backlog. */
const OUTAGE_MESSAGES = 1000;
const OUTAGE_AFTER = 200;
const MiB = 1024 * 1024;
const say = (line: string) => process.stderr.write(`[bench:ingest] ${line}\n`);

/**
 * What Ctrl-C (or a kill) must still take down: `finally` blocks do not run on a signal, and a compose project
 * left behind keeps its containers and volumes.
 */
const onInterrupt = new Set<() => Promise<void>>();
const tearDownOn = (signal: NodeJS.Signals) =>
  process.once(signal, () => {
    say(`${signal}: tearing down`);
    void Promise.allSettled([...onInterrupt].map((close) => close())).then(() => process.exit(130));
  });
tearDownOn('SIGINT');
tearDownOn('SIGTERM');
// Same for an error thrown outside any await chain (a gRPC timer, a stream): report it, then remove everything.
process.once('uncaughtException', (error) => {
  say(`uncaught: ${error.stack ?? String(error)}`);
  void Promise.allSettled([...onInterrupt].map((close) => close())).then(() => process.exit(1));
});

interface Payloads {
  small: PayloadFile[];
  large: PayloadFile[];
  burst: PayloadFile[];
  outage: PayloadFile[];
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      'outage-sec': { type: 'string', default: '60' },
      only: { type: 'string', default: SCENARIOS.join(',') },
      temporal: { type: 'string', default: 'dev' },
      // Writes a V8 CPU profile of each scenario's bridge process there (node --cpu-prof), for where its CPU goes.
      'cpu-prof-dir': { type: 'string' },
    },
  });
  const profileDir = values['cpu-prof-dir'];
  const bridgeNodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)];
  const outageMs = Number(values['outage-sec']) * 1000;
  if (!Number.isFinite(outageMs) || outageMs < 0) throw new Error(`--outage-sec must be a number ≥ 0`);
  const only = values.only.split(',');
  const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const temporal: readonly TemporalKind[] =
    values.temporal === 'both' ? TEMPORAL_KINDS : TEMPORAL_KINDS.filter((kind) => kind === values.temporal);
  if (temporal.length === 0) throw new Error(`--temporal must be dev, compose or both, not "${values.temporal}"`);
  return { json: values.json, outageMs, only, temporal, bridgeNodeArgs };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const work = await mkdtemp(path.join(tmpdir(), 'gg-bench-ingest-'));
  const broker = await startDefaultMosquitto();
  onInterrupt.add(() => broker.stop());
  try {
    say('writing payloads');
    const only = options.only;
    const payloads: Payloads = {
      small: await writePayloadFiles(path.join(work, 'small'), 'small', 300),
      large: await writePayloadFiles(path.join(work, 'large'), 'large', 300, MiB),
      burst: only.includes('burst') ? await writePayloadFiles(path.join(work, 'burst'), 'burst', 3000) : [],
      outage: only.includes('outage') ? await writePayloadFiles(path.join(work, 'outage'), 'out', OUTAGE_MESSAGES) : [],
    };
    const adminDatabaseUrl = requireEnv('DATABASE_URL');
    say('store-only baseline');
    const storeOnly = {
      small: await measureStoreOnly(adminDatabaseUrl, payloads.small),
      large: await measureStoreOnly(adminDatabaseUrl, payloads.large),
    };
    const reports: IngestReport[] = [];
    for (const kind of options.temporal) {
      const measured = await benchAgainst(kind, { ...options, work, adminDatabaseUrl, broker, payloads });
      reports.push({ ...measured, storeOnly });
      // One table per server as soon as it is measured: a later failure does not lose it.
      if (!options.json) process.stdout.write(`${formatIngestReport(reports.at(-1) as IngestReport)}\n\n`);
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
    }
  } finally {
    await broker.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Every chosen scenario against one Temporal server, brought up for it and removed after (even on failure). */
async function benchAgainst(
  kind: TemporalKind,
  context: {
    only: string[];
    outageMs: number;
    bridgeNodeArgs: readonly string[];
    work: string;
    adminDatabaseUrl: string;
    broker: ScenarioSetup['broker'];
    payloads: Payloads;
  },
): Promise<Omit<IngestReport, 'storeOnly'>> {
  const { only, outageMs, payloads } = context;
  const loadAverage1m = loadavg()[0] ?? NaN;
  say(`Temporal: ${kind}`);
  const serverDir = await mkdtemp(path.join(context.work, `temporal-${kind}-`));
  const server = await startBenchTemporal(kind, serverDir, say, onInterrupt);
  onInterrupt.add(server.close);
  let connection: Connection | undefined;
  try {
    // The server restarts (outage and its control): without a cap, gRPC's reconnect backoff grows to 120 s.
    connection = await Connection.connect({
      address: server.address,
      channelArgs: { 'grpc.max_reconnect_backoff_ms': 1000 },
    });
    const temporal = new Client({ connection });
    say("Temporal's own start rate (warm-up)");
    await measureTemporalStarts(temporal, 100, 16); // warm-up: first starts pay for shard and namespace caches

    const bridgeEnv = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('BRIDGE_')),
    );
    const setup: ScenarioSetup = {
      adminDatabaseUrl: context.adminDatabaseUrl,
      broker: context.broker,
      temporalAddress: server.address,
      temporal,
      bridgeEnv,
      bridgeNodeArgs: context.bridgeNodeArgs,
      temporalContainers: server.containers,
    };
    const scenarios: IngestReport['scenarios'] = [];
    // Temporal's own rate right before and right after each scenario: on a shared machine it moves from one
    // minute to the next, and each scenario is compared with the rate of its own minutes.
    const ownRate = () => measureTemporalStarts(temporal, OWN_STARTS, OWN_CONCURRENCY);
    // The same publishes to a topic nobody reads, bare starts running meanwhile: the server's rate under the
    // publishing side's share of the cores, without the bridge (a fairer reference than the rate measured alone).
    const unheard = { ...context.broker, topic: `bench/unheard-${randomUUID().slice(0, 8)}` };
    const run = async (name: string, files: readonly PayloadFile[], outage?: Parameters<typeof runScenario>[3]) => {
      say(`scenario ${name} (${kind})`);
      const before = await ownRate();
      const result = await runScenario(name, files, setup, outage);
      const after = await ownRate();
      const whilePublishing = outage
        ? undefined
        : await measureStartsWhilePublishing(temporal, unheard, files, OWN_CONCURRENCY);
      scenarios.push({ ...result, ownStarts: { before, after }, ownStartsWhilePublishing: whilePublishing });
    };
    if (only.includes('small')) await run('300 × 5.7 KB', payloads.small);
    if (only.includes('large')) await run('300 × 1 MB', payloads.large);
    if (only.includes('burst')) await run('3,000 × 5.7 KB', payloads.burst);
    if (only.includes('outage')) {
      const stopTemporal = () => server.stop();
      const startTemporal = () => server.start();
      // The control: the same outage with nothing pending, then as many bare starts as the backlog holds, sent
      // the moment the server answers; once before the scenario and once after, as the warm rate is measured.
      const restart = async () => {
        await stopTemporal();
        await sleep(outageMs);
        await startTemporal();
      };
      const backlog = OUTAGE_MESSAGES - OUTAGE_AFTER;
      const afterRestart = () => measureStartsAfterRestart(server.address, restart, backlog, OWN_CONCURRENCY);
      say(`control: Temporal down ${outageMs / 1000} s, then ${backlog} bare starts (${kind})`);
      const controlBefore = await afterRestart();
      await run(`1,000, Temporal down ${outageMs / 1000} s`, payloads.outage, {
        afterMessages: OUTAGE_AFTER,
        forMs: outageMs,
        stopTemporal,
        startTemporal,
      });
      say(`control again (${kind})`);
      const last = scenarios.at(-1);
      // A failed control loses only itself: the scenario's line is printed with the one control measured.
      const controlAfter = await afterRestart().catch((error: unknown) => {
        say(`control after the scenario failed: ${String(error)}`);
        return undefined;
      });
      if (last) last.ownStartsAfterRestart = { before: controlBefore, after: controlAfter };
    }
    return {
      machine: { cores: cpus().length, loadAverage1m },
      temporal: { kind, description: server.description },
      bridgeEnv,
      scenarios,
    };
  } finally {
    await connection?.close();
    await server.close();
    onInterrupt.delete(server.close);
  }
}

await main();
