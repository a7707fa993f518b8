// Eager starts go through Core's client, whose retries of an unanswered call reach 5 s apart: after a Temporal
// outage the starter must still resume within about a second, by probing through the bridge's own client.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, it } from 'node:test';
import { Client } from '@temporalio/client';
import { CleanupStack } from '../../src/app/cleanup-stack.js';
import { connectTemporalClient } from '../../src/app/temporal-connections.js';
import { startWorkflowStarter } from '../../src/bridge/workflow-starter.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { metrics } from '../../src/observability/metrics.js';
import { freePort, startTemporal, type RunningTemporal } from '../../src/services/index.js';
import { requireEnv } from '../support/env.js';
import { createMigratedDatabase } from '../support/migrated-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { waitFor } from '../support/wait-for.js';
import { startStandInWorker } from './support/stand-in-worker.js';

/** Long enough for Core's retries of a start to reach their 5-s spacing; well inside a worker's 60-s poll grace. */
const OUTAGE_MS = 15_000;
/** As for the bridge's own client (workflow-starter-outage.test.ts): ~1–2 s, 3 s leaves room for a busy machine. */
const RESUME_BOUND_MS = 3_000;

const cleanup = new CleanupStack(() => undefined);
after(() => cleanup.runAll());

async function eagerStarts(): Promise<number> {
  return (await metrics.workflowsStartedEagerly.get()).values[0]?.value ?? 0;
}

it('with eager starts, pending rows start within seconds of a stopped Temporal answering, and eagerly again', async () => {
  // Its own server on a fixed port and SQLite file: stopping it disturbs no other test.
  const dir = await mkdtemp(path.join(tmpdir(), 'gg-eager-outage-'));
  cleanup.push('temporal dir', () => rm(dir, { recursive: true, force: true }));
  const dbFile = path.join(dir, 'temporal.db');
  const port = await freePort();
  const cliPath = requireEnv('TEMPORAL_CLI');
  let server: RunningTemporal | undefined = await startTemporal({ dbFile, port, cliPath });
  cleanup.push('temporal server', () => server?.stop() ?? Promise.resolve());
  const database = await createMigratedDatabase();
  cleanup.push('database', () => database.drop());
  const taskQueue = `eager-outage-${randomUUID().slice(0, 8)}`;
  const { connection } = await startStandInWorker(server.address, taskQueue, cleanup);
  const temporal = await connectTemporalClient(loadConfig({ TEMPORAL_ADDRESS: server.address }), cleanup);
  const starter = startWorkflowStarter({
    db: database.db,
    temporal,
    localWorkerClient: new Client({ connection }),
    taskQueue,
    logger: createLogger({}, () => undefined),
  });
  cleanup.push('starter', () => starter.stop());

  const eagerBefore = await eagerStarts();
  await commitPendingPayloads(database.db, 4);
  starter.poke();
  await waitFor(async () => (await startedPayloadCount(database.db)) === 4, {
    description: '4 started before the outage',
  });
  assert.equal((await eagerStarts()) - eagerBefore, 4, 'the starts before the outage were eager');

  await server.stop();
  server = undefined;
  await commitPendingPayloads(database.db, 20);
  starter.poke();
  await sleep(OUTAGE_MS);
  assert.equal(await startedPayloadCount(database.db), 4, 'nothing starts while Temporal is down');

  server = await startTemporal({ dbFile, port, cliPath });
  const answeredAt = Date.now();
  await waitFor(async () => (await startedPayloadCount(database.db)) > 4, {
    description: 'the first pending row started after Temporal returned',
    timeoutMs: 60_000,
    intervalMs: 50,
  });
  const resumedMs = Date.now() - answeredAt;
  assert.ok(resumedMs <= RESUME_BOUND_MS, `pending starts resumed ${resumedMs} ms after Temporal answered`);
  await waitFor(async () => (await startedPayloadCount(database.db)) === 24, {
    description: 'all 20 pending rows started',
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  assert.ok((await eagerStarts()) - eagerBefore > 4, 'starts after the outage went eagerly again');
});
