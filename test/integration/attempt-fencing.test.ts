import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { beginAttempt, writeAsAttempt } from '../../src/activities/run-attempt-fence.js';
import { createRunActivities } from '../../src/activities/run-activities.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { gradingRuns, rawPayloads } from '../../src/db/schema.js';
import { releaseHeldClaim } from '../../src/db/slot-claims.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { requireEnv } from '../support/env.js';

describe('attempt fencing of the run row', () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    handle = connectDatabase(fresh.url);
    await migrateDatabase(handle.pool);
  });
  after(async () => {
    await handle.close();
    await fresh.drop();
  });

  async function openRun(): Promise<string> {
    const sha256 = randomUUID().replace(/-/g, '');
    // The run row references the payload it grades.
    await handle.db
      .insert(rawPayloads)
      .values({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 'submissions' });
    return createRunActivities(handle.db, (runId) => releaseHeldClaim(handle.db, runId)).openRun({
      workflowId: `grade-${sha256}`,
      payloadSha256: sha256,
      trigger: 'ingest',
      receivedAt: new Date().toISOString(),
    });
  }

  it("refuses a stale attempt's late write and keeps the current attempt's result", async () => {
    const runId = await openRun();
    const stale = await beginAttempt(handle.db, runId); // e.g. a node whose heartbeat then timed out
    const current = await beginAttempt(handle.db, runId); // Temporal's retry, here or on another node
    assert.equal(current, stale + 1);
    await writeAsAttempt(handle.db, runId, current, { state: 'recording', output: 'current', exitCode: 0 });
    await assert.rejects(
      writeAsAttempt(handle.db, runId, stale, { state: 'recording', output: 'stale', exitCode: 1 }),
      (error: Error & { type?: string; nonRetryable?: boolean }) =>
        error.type === 'StaleAttempt' && error.nonRetryable === true && /superseded/.test(error.message),
    );
    const [row] = await handle.db
      .select({ output: gradingRuns.output, exitCode: gradingRuns.exitCode, attempts: gradingRuns.attempts })
      .from(gradingRuns)
      .where(eq(gradingRuns.id, runId));
    assert.deepEqual(row, { output: 'current', exitCode: 0, attempts: current });
  });

  it('lets the only attempt write', async () => {
    const runId = await openRun();
    const attempt = await beginAttempt(handle.db, runId);
    await writeAsAttempt(handle.db, runId, attempt, { output: 'only' });
    const [row] = await handle.db
      .select({ output: gradingRuns.output })
      .from(gradingRuns)
      .where(eq(gradingRuns.id, runId));
    assert.equal(row?.output, 'only');
  });
});
