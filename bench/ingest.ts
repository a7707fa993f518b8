// `npm run bench:ingest [-- --json] [--outage-sec N] [--only small,large,burst,outage]`: how fast the bridge
// takes a burst of real `mosquitto_pub -q 1` publishes off a DEFAULT-config Mosquitto, next to a store-only
// loop and Temporal's own start rate measured in the same run. PostgreSQL comes from scripts/with-services.ts;
// the broker and the Temporal dev server are the bench's own (the outage scenario stops and restarts Temporal).
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { freePort, startTemporal, type RunningTemporal } from '../src/services/index.js';
import { startDefaultMosquitto } from '../test/support/default-mosquitto.js';
import { requireEnv } from '../test/support/env.js';
import { measureStoreOnly, measureTemporalStarts } from './ingest-baselines.js';
import { writePayloadFiles } from './ingest-payloads.js';
import { runScenario, type ScenarioResult, type ScenarioSetup } from './ingest-scenario.js';
import { formatIngestReport, type IngestReport } from './ingest-table.js';

const SCENARIOS = ['small', 'large', 'burst', 'outage'] as const;
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      'outage-sec': { type: 'string', default: '60' },
      only: { type: 'string', default: SCENARIOS.join(',') },
    },
  });
  const outageMs = Number(values['outage-sec']) * 1000;
  if (!Number.isFinite(outageMs) || outageMs < 0) throw new Error(`--outage-sec must be a number ≥ 0`);
  const only = values.only.split(',');
  const unknown = only.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const say = (line: string) => process.stderr.write(`[bench:ingest] ${line}\n`);

  const work = await mkdtemp(path.join(tmpdir(), 'gg-bench-ingest-'));
  const loadAverage1m = loadavg()[0] ?? NaN;
  const cliPath = requireEnv('TEMPORAL_CLI');
  const temporalPort = await freePort();
  const dbFile = path.join(work, 'temporal.db');
  let server: RunningTemporal | undefined = await startTemporal({ dbFile, port: temporalPort, cliPath });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection });
  const broker = await startDefaultMosquitto();
  try {
    say('writing payloads');
    const small = await writePayloadFiles(path.join(work, 'small'), 'small', 300);
    const large = await writePayloadFiles(path.join(work, 'large'), 'large', 300, MiB);
    const burst = only.includes('burst') ? await writePayloadFiles(path.join(work, 'burst'), 'burst', 3000) : [];
    const outageFiles = only.includes('outage') ? await writePayloadFiles(path.join(work, 'outage'), 'out', 1000) : [];

    const adminDatabaseUrl = requireEnv('DATABASE_URL');
    say('store-only baseline');
    const storeOnly = {
      small: await measureStoreOnly(adminDatabaseUrl, small),
      large: await measureStoreOnly(adminDatabaseUrl, large),
    };
    say("Temporal's own start rate");
    await measureTemporalStarts(temporal, 100, 16); // warm-up: first starts pay for shard and namespace caches
    const temporalStarts = await measureTemporalStarts(temporal, 1000, 32);

    const bridgeEnv = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('BRIDGE_')),
    );
    const setup: ScenarioSetup = { adminDatabaseUrl, broker, temporalAddress: server.address, temporal, bridgeEnv };
    const scenarios: ScenarioResult[] = [];
    const run = async (name: string, promise: () => Promise<ScenarioResult>) => {
      say(`scenario ${name}`);
      scenarios.push(await promise());
    };
    if (only.includes('small')) await run('300 × 5.7 KB', () => runScenario('300 × 5.7 KB', small, setup));
    if (only.includes('large')) await run('300 × 1 MB', () => runScenario('300 × 1 MB', large, setup));
    if (only.includes('burst')) await run('3,000 × 5.7 KB', () => runScenario('3,000 × 5.7 KB', burst, setup));
    if (only.includes('outage')) {
      const name = `1,000, Temporal down ${outageMs / 1000} s`;
      await run(name, () =>
        runScenario(name, outageFiles, setup, {
          afterMessages: 200,
          forMs: outageMs,
          stopTemporal: async () => {
            await server?.stop();
            server = undefined;
          },
          startTemporal: async () => {
            server = await startTemporal({ dbFile, port: temporalPort, cliPath });
          },
        }),
      );
    }
    // Measured again at the end: on a shared machine the load moves, and the ratio should not hinge on one moment.
    const temporalStartsAfter = await measureTemporalStarts(temporal, 1000, 32);
    const report: IngestReport = {
      machine: { cores: cpus().length, loadAverage1m },
      bridgeEnv,
      storeOnly,
      temporalStarts: [temporalStarts, temporalStartsAfter],
      scenarios,
    };
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatIngestReport(report)}\n`);
  } finally {
    await broker.stop();
    await connection.close();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
