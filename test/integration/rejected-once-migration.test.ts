// Migration 0020 on rejected messages stored by 0019, which kept a message the broker sent again once more: the
// unique index it adds must not fail on those copies. The first copy keeps its bytes, the later ones keep their row.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { asc } from 'drizzle-orm';
import type { DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { rejectedMessages } from '../../src/db/schema.js';
import { databaseAtMigration } from '../support/database-at-migration.js';

let handle: DatabaseHandle;
let drop: (() => Promise<void>) | undefined;
before(async () => {
  ({ handle, drop } = await databaseAtMigration('0019_unchanged_book_plans'));
});
after(async () => {
  await drop?.();
});

it('keeps the first copy of a message stored twice with its bytes, and the later copy without', async () => {
  const row = (topic: string, createdAt: Date, bytes: string) => ({
    id: randomUUID(),
    topic,
    sizeBytes: bytes.length,
    bytes: Buffer.from(bytes),
    truncated: false,
    sha256: 'a'.repeat(64),
    rejectionCode: 'not-a-zip',
    rejectionReason: 'not a zip file',
    receivedAt: createdAt,
  });
  const first = row('submissions', new Date('2026-11-01T00:00:00Z'), 'not a zip');
  const again = row('submissions', new Date('2026-11-01T00:00:05Z'), 'not a zip');
  const otherTopic = row('submissions/other', new Date('2026-11-01T00:00:06Z'), 'not a zip');
  await handle.db.insert(rejectedMessages).values([again, first, otherTopic]);

  await migrateDatabase(handle.pool);
  const rows = await handle.db
    .select({ id: rejectedMessages.id, bytes: rejectedMessages.bytes, purgedAt: rejectedMessages.bytesPurgedAt })
    .from(rejectedMessages)
    .orderBy(asc(rejectedMessages.receivedAt));
  assert.deepEqual(
    rows.map((r) => [r.id, r.bytes?.toString() ?? null, r.purgedAt !== null]),
    [
      [first.id, 'not a zip', false],
      [again.id, null, true],
      [otherTopic.id, 'not a zip', false],
    ],
  );
  // From now on the index keeps a message once while its bytes are kept.
  await assert.rejects(handle.db.insert(rejectedMessages).values({ ...again, id: randomUUID() }), (error: Error) => {
    assert.equal((error.cause as { constraint?: string } | undefined)?.constraint, 'rejected_messages_kept_once_idx');
    return true;
  });
});
