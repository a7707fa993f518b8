import { randomBytes } from 'node:crypto';
import { count, isNotNull } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { rawPayloads } from '../../src/db/schema.js';

/** Commits `n` pending payload rows in one statement, as one batch of the bridge does. */
export async function commitPendingPayloads(db: Database, n: number): Promise<void> {
  const rows = Array.from({ length: n }, () => ({
    sha256: randomBytes(32).toString('hex'),
    bytes: Buffer.from('zip'),
    sizeBytes: 3,
    topic: 'submissions',
  }));
  await db.insert(rawPayloads).values(rows);
}

/** Rows whose workflow the starter has started and marked. */
export async function startedPayloadCount(db: Database): Promise<number> {
  const [row] = await db.select({ n: count() }).from(rawPayloads).where(isNotNull(rawPayloads.workflowStartedAt));
  return row?.n ?? 0;
}
