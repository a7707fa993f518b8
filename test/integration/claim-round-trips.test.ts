// Slot claims against a real PostgreSQL, counting what they send: every claim and every release runs them, so each
// round trip is CPU on the orchestrator and on the database for every graded run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { claimOrQueue, releaseClaim, waitersForFreeSlots } from '../../src/db/slot-claims.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const { gradingRuns, nodes, rawPayloads } = schema;
const REGION = 'us-west';

describe('slot claim round trips', () => {
  let database: MigratedDatabase;
  let pool: pg.Pool;
  let db: Database;
  /** Statement texts sent, in order (named statements by their text). */
  let sent: string[] = [];

  before(async () => {
    database = await createMigratedDatabase();
    // One connection, so a transaction left open by a claim would break the next one.
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
    pool.on('connect', (client) => {
      // Every round trip, pool.query included, goes through the client's query method.
      const send = client.query.bind(client) as (...args: unknown[]) => unknown;
      Object.assign(client, {
        query: (...args: unknown[]) => {
          const [first] = args;
          sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
          return send(...args);
        },
      });
    });
    db = drizzle(pool, { schema });
  });

  after(async () => {
    await pool?.end();
    await database?.drop();
  });

  beforeEach(async () => {
    await db.execute(sql`truncate run_slot_claims, grading_runs, raw_payloads, nodes cascade`);
    await db.insert(nodes).values({
      name: 'n1',
      taskQueue: 'q-n1',
      cpuModel: 'test',
      clockMhz: 1,
      sockets: 1,
      cores: 1,
      memoryBytes: 1,
      region: REGION,
      zone: 'a',
      maxConcurrentRuns: 1,
      prefetchRuns: 0,
      lastSeenAt: new Date(),
    });
    sent = [];
  });

  async function addRun(): Promise<string> {
    const sha256 = randomUUID();
    await db.insert(rawPayloads).values({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' });
    const [run] = await db
      .insert(gradingRuns)
      .values({ workflowId: `wf-${sha256}`, payloadSha256: sha256, trigger: 'ingest', receivedAt: new Date() })
      .returning({ id: gradingRuns.id });
    assert.ok(run);
    return run.id;
  }

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

  /** The statements `step` sends (`begin` with the lock counts once: it is one round trip). */
  async function countOf(step: () => Promise<unknown>): Promise<{ count: number; texts: string }> {
    sent = [];
    await step();
    return { count: sent.length, texts: sent.map((text) => text.replace(/\s+/g, ' ').slice(0, 80)).join('\n') };
  }

  it('grants a free slot in five round trips, queues in four, and finds the waiters for a freed slot in three', async () => {
    const [holder, waiter] = [await addRun(), await addRun()];

    const granted = await countOf(async () => assert.equal((await claim(holder)).kind, 'claimed'));
    // begin with the lock, the queue row, free slots with the run's place, the claim, commit.
    assert.equal(granted.count, 5, granted.texts);

    const queued = await countOf(async () => assert.equal((await claim(waiter)).kind, 'queued'));
    assert.equal(queued.count, 4, queued.texts);

    await releaseClaim(db, holder);
    const expected = [`wf-${await payloadOf(waiter)}`];
    const waiters = await countOf(async () =>
      assert.deepEqual(await waitersForFreeSlots(db, REGION, liveSince()), expected),
    );
    // begin with the lock, the waiters (free slots and the queue's order in one read), commit.
    assert.equal(waiters.count, 3, waiters.texts);

    const again = await countOf(async () => assert.equal((await claim(waiter)).kind, 'claimed'));
    assert.equal(again.count, 5, again.texts);
  });

  it('leaves the connection usable when a claim fails inside its transaction', async () => {
    // A run id with no run row: the queue row's insert breaks its foreign key, inside the locked transaction.
    await assert.rejects(claim(randomUUID()), /foreign key/);
    const run = await addRun();
    assert.equal((await claim(run)).kind, 'claimed', 'the rolled-back connection serves the next claim');
  });

  async function payloadOf(runId: string): Promise<string> {
    const { rows } = await pool.query<{ payload_sha256: string }>(
      'select payload_sha256 from grading_runs where id = $1',
      [runId],
    );
    assert.ok(rows[0]);
    return rows[0].payload_sha256;
  }
});
