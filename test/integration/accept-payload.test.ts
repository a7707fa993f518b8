// What the bridge's acceptor commits for a message. A topic PostgreSQL cannot store as text (U+0000, which aedes
// passes under a wildcard MQTT_TOPIC) must not fail its message at every retry, nor the messages batched beside it:
// the bridge would stop acknowledging for good. A rejected message the broker sends again is kept once.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createPayloadAcceptor } from '../../src/bridge/accept-payload.js';
import { createPayloadBatcher } from '../../src/bridge/payload-batcher.js';
import { rawPayloads, rejectedMessages } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metrics } from '../../src/observability/metrics.js';
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

function acceptor(maxRows = 1) {
  return createPayloadAcceptor({
    db: database.db,
    batcher: createPayloadBatcher({ db: database.db, maxRows, flushAfterMs: 1_000 }),
    maxPayloadBytes: 1024 * 1024,
    keyring: emptyKeyring,
    quarantineRetentionDays: 14,
    receiverIp: null,
    logger: silentLogger,
  });
}

it('stores messages whose topic holds U+0000, and those batched beside them, with the topic made storable', async () => {
  // One batch for the three: a row PostgreSQL refused would fail the other two with it.
  const accept = acceptor(3);
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

it('keeps a rejected message once when the broker sends it again, even twice at once', async () => {
  const accept = acceptor();
  const notZip = Buffer.from(`not a zip ${randomUUID()}`);
  const rows = () =>
    database.db
      .select({ topic: rejectedMessages.topic })
      .from(rejectedMessages)
      .where(eq(rejectedMessages.sha256, sha256(notZip)));
  const counted = async () =>
    (await metrics.messagesRejected.get()).values.find((v) => v.labels.code === 'not-a-zip')?.value ?? 0;
  const countedBefore = await counted();
  // Its PUBACK was lost: the broker delivers it again, here once after and twice side by side.
  assert.equal(await accept('submissions', notZip), 'rejected');
  assert.deepEqual(await Promise.all([accept('submissions', notZip), accept('submissions', notZip)]), [
    'rejected',
    'rejected',
  ]);
  assert.equal((await rows()).length, 1, 'one message, one row for the operator');
  assert.equal((await counted()) - countedBefore, 1, 'one message, counted once');
  // The same bytes on another topic are another message, also on a topic too long for a btree entry whole.
  const longTopic = `submissions/${'x'.repeat(3000)}`;
  assert.equal(await accept('submissions/other', notZip), 'rejected');
  assert.equal(await accept(longTopic, notZip), 'rejected');
  assert.equal(await accept(longTopic, notZip), 'rejected');
  assert.deepEqual((await rows()).map((row) => row.topic).sort(), ['submissions', 'submissions/other', longTopic]);
});
