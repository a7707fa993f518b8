// The bridge's starter against a real PostgreSQL and Temporal dev server: a pipeline of starts, not rounds.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startWorkflowStarter, type RunningWorkflowStarter } from '../../src/bridge/workflow-starter.js';
import { rawPayloads } from '../../src/db/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { requireEnv } from '../support/env.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { createStartProbe, type StartProbe } from '../support/start-probe.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { waitFor } from '../support/wait-for.js';

const quiet = createLogger({}, () => undefined);

describe('workflow starter', () => {
  let database: MigratedDatabase;
  let connection: Connection;
  before(async () => {
    database = await createMigratedDatabase();
    connection = await Connection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  });
  after(async () => {
    await connection?.close();
    await database?.drop();
  });

  /** A starter on its own task queue, its client watched by `probe`. */
  function starterWith(probe: StartProbe, window: number): RunningWorkflowStarter {
    const temporal = new Client({ connection, interceptors: { workflow: [probe.interceptor] } });
    const taskQueue = `starter-${randomUUID().slice(0, 8)}`;
    return startWorkflowStarter({ db: database.db, temporal, taskQueue, logger: quiet, window });
  }

  it('a slow start does not hold back the rows committed after it', async () => {
    await database.db.delete(rawPayloads);
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const probe = createStartProbe((n) => (n === 1 ? firstHeld : Promise.resolve()));
    const starter = starterWith(probe, 8);
    try {
      await commitPendingPayloads(database.db, 1);
      starter.poke();
      await waitFor(() => probe.issued() >= 1, { description: 'the first start to be issued', timeoutMs: 10_000 });
      // A trickle of small commits, each poking the starter, as the bridge's batches do.
      for (let i = 0; i < 10; i += 1) {
        await commitPendingPayloads(database.db, 4);
        starter.poke();
        await sleep(10);
      }
      await waitFor(async () => (await startedPayloadCount(database.db)) >= 40, {
        description: 'the 40 rows committed behind the slow start to start while it is still held',
        timeoutMs: 15_000,
        intervalMs: 50,
      });
      releaseFirst();
      await waitFor(async () => (await startedPayloadCount(database.db)) === 41, {
        description: 'the slow start to be marked once it completes',
        intervalMs: 50,
      });
    } finally {
      releaseFirst();
      await starter.stop();
    }
  });

  it('keeps at most `window` starts in flight, and a backlog fills the window', async () => {
    await database.db.delete(rawPayloads);
    // Each start takes 100 ms more, as on a busy server: the window fills before the first one returns.
    const probe = createStartProbe(() => sleep(100));
    await commitPendingPayloads(database.db, 60);
    const starter = starterWith(probe, 6);
    try {
      starter.poke();
      await waitFor(async () => (await startedPayloadCount(database.db)) === 60, {
        description: 'all 60 rows started',
        timeoutMs: 30_000,
        intervalMs: 50,
      });
    } finally {
      await starter.stop();
    }
    assert.equal(probe.maxInFlight(), 6, 'the window is filled and never exceeded');
    assert.equal(probe.issued(), 60, 'one start per row');
  });
});
