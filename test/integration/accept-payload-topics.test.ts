// A topic PostgreSQL cannot store as text (U+0000, which aedes passes under a wildcard MQTT_TOPIC) must not fail
// its message at every retry, nor the messages batched beside it: the bridge would stop acknowledging for good.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createPayloadAcceptor } from '../../src/bridge/accept-payload.js';
import { createPayloadBatcher } from '../../src/bridge/payload-batcher.js';
import { rawPayloads, rejectedMessages } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { emptyKeyring } from '../../src/submission/sealed-bytes.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { fakeZip } from '../support/publish-loops.js';

let database: MigratedDatabase;
before(async () => {
  database = await createMigratedDatabase();
});
after(async () => {
  await database?.drop();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

it('stores messages whose topic holds U+0000, and those batched beside them, with the topic made storable', async () => {
  const accept = createPayloadAcceptor({
    db: database.db,
    // One batch for the three: a row PostgreSQL refused would fail the other two with it.
    batcher: createPayloadBatcher({ db: database.db, maxRows: 3, flushAfterMs: 1_000 }),
    maxPayloadBytes: 1024 * 1024,
    keyring: emptyKeyring,
    quarantineRetentionDays: 14,
    receiverIp: null,
    logger: silentLogger,
  });
  const zips = [fakeZip(), fakeZip(), fakeZip()];
  const topics = ['submissions/a\u0000b', 'submissions/plain', 'submissions/\u0000'];
  const accepted = await Promise.all(zips.map((bytes, i) => accept(topics[i]!, bytes)));
  assert.deepEqual(accepted, ['stored', 'stored', 'stored']);
  const stored = await Promise.all(
    zips.map(async (bytes) => {
      const [row] = await database.db
        .select({ topic: rawPayloads.topic })
        .from(rawPayloads)
        .where(eq(rawPayloads.sha256, sha256(bytes)));
      return row?.topic;
    }),
  );
  assert.deepEqual(stored, ['submissions/a\uFFFDb', 'submissions/plain', 'submissions/\uFFFD']);

  const notZip = Buffer.from(`not a zip ${randomUUID()}`);
  assert.equal(await accept('submissions/\u0000bad', notZip), 'rejected');
  const [rejected] = await database.db
    .select({ topic: rejectedMessages.topic, code: rejectedMessages.rejectionCode })
    .from(rejectedMessages)
    .where(eq(rejectedMessages.sha256, sha256(notZip)));
  assert.deepEqual(rejected, { topic: 'submissions/\uFFFDbad', code: 'not-a-zip' });
});
