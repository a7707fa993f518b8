import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/client.js';
import { gradingRuns, rawPayloads } from '../../src/db/schema.js';

/**
 * A run row over a stored payload of its own, as ingestion leaves it: enough for slot-claim and wake tests.
 * `deadlineAt`: the run's deadline, as planning records it (none by default).
 */
export async function insertRunRow(
  db: Database,
  { deadlineAt }: { deadlineAt?: Date } = {},
): Promise<{ runId: string; workflowId: string }> {
  const sha256 = randomUUID();
  await db.insert(rawPayloads).values({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' });
  const [row] = await db
    .insert(gradingRuns)
    .values({
      workflowId: `wf-${sha256}`,
      payloadSha256: sha256,
      trigger: 'ingest',
      receivedAt: new Date(),
      ...(deadlineAt ? { deadlineAt } : {}),
    })
    .returning({ runId: gradingRuns.id, workflowId: gradingRuns.workflowId });
  assert.ok(row);
  return row;
}
