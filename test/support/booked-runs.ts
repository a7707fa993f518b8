// Run rows for reservation tests: the ledger books runs by id, and a run row needs a stored payload.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/client.js';
import { gradingRuns, rawPayloads } from '../../src/db/schema.js';

/** Inserts `count` ingested runs (each with a tiny payload of its own) received at `receivedAtMs`; their ids. */
export async function addRuns(db: Database, count: number, receivedAtMs: number): Promise<string[]> {
  const shas = Array.from({ length: count }, () => randomUUID());
  await db
    .insert(rawPayloads)
    .values(shas.map((sha256) => ({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' })));
  const rows = await db
    .insert(gradingRuns)
    .values(
      shas.map((sha256) => ({
        workflowId: `wf-${sha256}`,
        payloadSha256: sha256,
        trigger: 'ingest' as const,
        receivedAt: new Date(receivedAtMs),
      })),
    )
    .returning({ id: gradingRuns.id });
  return rows.map((row) => row.id);
}
