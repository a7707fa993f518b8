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

  /** Commits `rows` pending rows at once and waits until a starter with this window has started them all. */
  async function drainBacklog(probe: StartProbe, window: number, rows: number): Promise<void> {
    await commitPendingPayloads(database.db, rows);
    const starter = starterWith(probe, window);
    try {
      starter.poke();
      await waitFor(async () => (await startedPayloadCount(database.db)) === rows, {
        description: `all ${rows} rows started`,
        timeoutMs: 60_000,
        intervalMs: 50,
      });
    } finally {
      await starter.stop();
    }
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
    await drainBacklog(probe, 6, 60);
    assert.equal(probe.maxInFlight(), 6, 'the window is filled and never exceeded');
    assert.equal(probe.issued(), 60, 'one start per row');
  });

  it('a start that fails while Temporal answers the others is retried alone: the window stays full', async () => {
    await database.db.delete(rawPayloads);
    // A slow server that times out some calls, as the compose server does for seconds after a restart: each start
    // takes 100 ms more, and every 5th of the first 100 fails after 1 s (a deadline: a timed-out call outlasts the
    // calls sent with it, which succeed meanwhile however slow the machine), while the rest succeed.
    const probe = createStartProbe(async (n) => {
      const failing = n % 5 === 0 && n <= 100;
      await sleep(failing ? 1000 : 100);
      if (failing) throw new Error(`start ${n} timed out (injected)`);
    });
    await drainBacklog(probe, 8, 200);
    assert.equal(probe.issued(), 220, 'each of the 20 failed starts was retried once, nothing else twice');
    // One probe at a time after each failure would issue ~20 starts alone; a full window issues only the first so.
    assert.ok(probe.issuedAlone() <= 3, `${probe.issuedAlone()} starts were issued with no other in flight`);
  });
});
