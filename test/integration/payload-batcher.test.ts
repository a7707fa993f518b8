import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPayloadBatcher } from '../../src/bridge/payload-batcher.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { rawPayloads } from '../../src/db/schema.js';
import { requireEnv } from '../support/env.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';

describe('payload batches', () => {
  let database: FreshDatabase;
  let handle: DatabaseHandle;
  before(async () => {
    database = await createFreshDatabase(requireEnv('DATABASE_URL'));
    handle = connectDatabase(database.url, { maxConnections: 4 });
    await migrateDatabase(handle.pool);
  });
  after(async () => {
    await handle?.close();
    await database?.drop();
  });

  // PostgreSQL refuses a message over 1 GiB: 64 zips of 64 MiB in one INSERT would never commit.
  it('cuts a batch by payload bytes as well as by rows, and stores every row', async () => {
    let commits = 0;
    const batcher = createPayloadBatcher({
      db: handle.db,
      maxRows: 64,
      maxBytes: 3000,
      flushAfterMs: 50,
      onCommitted: () => (commits += 1),
    });
    const payloads = Array.from({ length: 10 }, () => randomBytes(1000));
    const results = await Promise.all(
      payloads.map((bytes) => {
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        return batcher.store({ sha256, bytes, sizeBytes: bytes.length, topic: 't', receiverIp: null });
      }),
    );
    assert.deepEqual(results, Array(10).fill('stored'));
    assert.equal(commits, 4, 'batches of 3, 3, 3 and 1 rows');
    assert.equal((await handle.db.select().from(rawPayloads)).length, 10);
  });
});
