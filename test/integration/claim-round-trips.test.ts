// Slot claims against a real PostgreSQL, counting what they send: every claim and every release runs them, so each
// round trip is CPU on the orchestrator and on the database for every graded run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { claimOrQueue, releaseHeldClaim, waitersForFreeSlots } from '../../src/db/slot-claims.js';
import { createCountingPool, type CountingPool } from '../support/counting-pool.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { insertNodeRow } from '../support/node-row.js';
import { insertRunRow } from '../support/run-row.js';

const REGION = 'us-west';

describe('slot claim round trips', () => {
  let database: MigratedDatabase;
  let counting: CountingPool;
  let db: Database;

  before(async () => {
    database = await createMigratedDatabase();
    counting = createCountingPool(database.url);
    db = drizzle(counting.pool, { schema });
  });

  after(async () => {
    await counting?.pool.end();
    await database?.drop();
  });

  beforeEach(async () => {
    await db.execute(sql`truncate run_slot_claims, grading_runs, raw_payloads, nodes cascade`);
    await insertNodeRow(db, { name: 'n1', region: REGION });
  });

  const liveSince = () => new Date(Date.now() - 30_000);
  const claim = (runId: string) =>
    claimOrQueue(db, {
      runId,
      lane: 'live',
      laneWeight: 4,
      preferredNode: { name: 'n1', region: REGION },
      excludeNodes: [],
      liveSince: liveSince(),
    });

  /** The round trips `step` takes, and their statements for the failure message. */
  async function roundTrips(step: () => Promise<unknown>): Promise<{ count: number; texts: string }> {
    counting.reset();
    await step();
    const texts = counting.sent.map((text) => text.replace(/\s+/g, ' ').slice(0, 80)).join('\n');
    return { count: counting.sent.length, texts };
  }

  it('grants a free slot in five round trips, queues in four, and finds the waiters for a freed slot in three', async () => {
    const [holder, waiter] = [await insertRunRow(db), await insertRunRow(db)];

    const granted = await roundTrips(async () => assert.equal((await claim(holder.runId)).kind, 'claimed'));
    // begin with the lock, the queue row, free slots with the run's place, the claim, commit.
    assert.equal(granted.count, 5, granted.texts);

    const queued = await roundTrips(async () => assert.equal((await claim(waiter.runId)).kind, 'queued'));
    assert.equal(queued.count, 4, queued.texts);

    const released = await roundTrips(() => releaseHeldClaim(db, holder.runId));
    // The reservation and the claim go back in one statement.
    assert.equal(released.count, 1, released.texts);

    const waiters = await roundTrips(async () =>
      assert.deepEqual(await waitersForFreeSlots(db, REGION, liveSince()), [waiter.workflowId]),
    );
    // begin with the lock, the waiters (free slots and the queue's order in one read), commit.
    assert.equal(waiters.count, 3, waiters.texts);

    const again = await roundTrips(async () => assert.equal((await claim(waiter.runId)).kind, 'claimed'));
    assert.equal(again.count, 5, again.texts);
  });

  it('leaves the connection usable when a claim fails inside its transaction', async () => {
    // A run id with no run row: the queue row's insert breaks its foreign key, inside the locked transaction.
    await assert.rejects(claim(randomUUID()), /foreign key/);
    const run = await insertRunRow(db);
    assert.equal((await claim(run.runId)).kind, 'claimed', 'the rolled-back connection serves the next claim');
  });
});
