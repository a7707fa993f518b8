// A process frozen inside a transaction (stopped, its VM paused) must not hold the slot queue's lock for good: every
// claim in the fleet takes it. PostgreSQL ends such a session after DATABASE_IDLE_IN_TRANSACTION_SEC.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { SLOT_QUEUE_LOCK, underSlotQueueLock } from '../../src/db/slot-queue-lock.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { requireEnv } from '../support/env.js';

/** Longer than the 1-s setting below, by far; short against the wait without it (for ever). */
const WAIT_BOUND_MS = 15_000;

let fresh: FreshDatabase;
let frozen: DatabaseHandle;
let other: DatabaseHandle;
before(async () => {
  // Advisory locks belong to their database: the test's own keeps other tests' claims out of its way.
  fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
  frozen = connectDatabase(fresh.url, { maxConnections: 2, idleInTransactionSec: 1 });
  other = connectDatabase(fresh.url, { maxConnections: 2, idleInTransactionSec: 1 });
});
after(async () => {
  await frozen?.close();
  await other?.close();
  await fresh?.drop();
});

it('a session that stops inside a transaction holding the slot queue lock is ended, and claims go on', async () => {
  // No listener of its own, as every transaction in src/ holds its client: the server ending the session must not
  // crash the process with an unhandled 'error' event.
  const stuck = await frozen.pool.connect();
  await stuck.query(`begin; ${SLOT_QUEUE_LOCK}`);
  // ... and sends nothing more, as a process that froze there would.
  const started = Date.now();
  const claimed = underSlotQueueLock(
    other.pool,
    async (client) => (await client.query<{ one: number }>('select 1 as one')).rows[0],
  );
  const outcome = await Promise.race([claimed, sleep(WAIT_BOUND_MS).then(() => 'still waiting' as const)]);
  try {
    assert.deepEqual(outcome, { one: 1 }, `the claim waited over ${WAIT_BOUND_MS} ms behind the frozen session`);
    assert.ok(Date.now() - started < WAIT_BOUND_MS);
    await assert.rejects(stuck.query('select 1'), /idle-in-transaction|terminat|not queryable/i);
  } finally {
    stuck.release(true);
    await claimed.catch(() => undefined);
  }
  // The pool that lost the session still works: the next query takes a new connection.
  const { rows } = await frozen.pool.query<{ one: number }>('select 1 as one');
  assert.deepEqual(rows, [{ one: 1 }]);
});
