// After a Temporal outage the bridge's starter resumes within about a second of the server answering again,
// through the client the bridge really uses (its reconnect and retry settings are half of the answer).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, it } from 'node:test';
import { CleanupStack } from '../../src/app/cleanup-stack.js';
import { connectTemporalClient } from '../../src/app/temporal-connections.js';
import { startWorkflowStarter } from '../../src/bridge/workflow-starter.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort, startTemporal, type RunningTemporal } from '../../src/services/index.js';
import { requireEnv } from '../support/env.js';
import { createMigratedDatabase } from '../support/migrated-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { waitFor } from '../support/wait-for.js';

/** Long enough for every backoff (gRPC's reconnect, the client's per-call retry, the starter's) to reach its cap. */
const OUTAGE_MS = 15_000;
/** The promise: pending starts resume within ~1–2 s of the server answering; 3 s leaves room for a busy machine. */
const RESUME_BOUND_MS = 3_000;

const cleanup = new CleanupStack(() => undefined);
after(() => cleanup.runAll());

it('pending rows start within seconds of a stopped Temporal server answering again', async () => {
  // Its own server on a fixed port and SQLite file: stopping it disturbs no other test.
  const dir = await mkdtemp(path.join(tmpdir(), 'gg-starter-outage-'));
  cleanup.push('temporal dir', () => rm(dir, { recursive: true, force: true }));
  const dbFile = path.join(dir, 'temporal.db');
  const port = await freePort();
  const cliPath = requireEnv('TEMPORAL_CLI');
  let server: RunningTemporal | undefined = await startTemporal({ dbFile, port, cliPath });
  cleanup.push('temporal server', () => server?.stop() ?? Promise.resolve());
  const database = await createMigratedDatabase();
  cleanup.push('database', () => database.drop());
  const temporal = await connectTemporalClient(loadConfig({ TEMPORAL_ADDRESS: server.address }), cleanup);
  const starter = startWorkflowStarter({
    db: database.db,
    temporal,
    taskQueue: `starter-outage-${randomUUID().slice(0, 8)}`,
    logger: createLogger({}, () => undefined),
  });
  cleanup.push('starter', () => starter.stop());

  await commitPendingPayloads(database.db, 10);
  starter.poke();
  await waitFor(async () => (await startedPayloadCount(database.db)) === 10, {
    description: '10 started before the outage',
  });

  await server.stop();
  server = undefined;
  await commitPendingPayloads(database.db, 20);
  starter.poke();
  await sleep(OUTAGE_MS);
  assert.equal(await startedPayloadCount(database.db), 10, 'nothing starts while Temporal is down');

  server = await startTemporal({ dbFile, port, cliPath });
  const answeredAt = Date.now();
  await waitFor(async () => (await startedPayloadCount(database.db)) > 10, {
    description: 'the first pending row started after Temporal returned',
    timeoutMs: 60_000,
    intervalMs: 50,
  });
  const resumedMs = Date.now() - answeredAt;
  assert.ok(resumedMs <= RESUME_BOUND_MS, `pending starts resumed ${resumedMs} ms after Temporal answered`);
  await waitFor(async () => (await startedPayloadCount(database.db)) === 30, {
    description: 'all 20 pending rows started',
    timeoutMs: 30_000,
    intervalMs: 50,
  });
});
