// What a started workflow costs the starter in PostgreSQL round trips: its lease and its mark are shared with many
// other starts, so a backlog drains at Temporal's pace, not at one UPDATE per workflow.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { isNotNull } from 'drizzle-orm';
import { startWorkflowStarter } from '../../src/bridge/workflow-starter.js';
import { rawPayloads } from '../../src/db/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { createCountingDatabase, type CountingDatabase } from '../support/counting-database.js';
import { requireEnv } from '../support/env.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { createStartProbe } from '../support/start-probe.js';
import { waitFor } from '../support/wait-for.js';

const BACKLOG = 200;
const WINDOW = 32;
/**
 * Claims of half a window or more and marks shared by the starts completing within a linger: about 0.1 per start
 * at Temporal's usual pace, 0.3 on a machine so loaded it starts 10/s; one mark per start (the pipeline's natural
 * rhythm when starts complete one by one) would be over 1.
 */
const MAX_STATEMENTS_PER_START = 0.4;

let database: MigratedDatabase;
let counting: CountingDatabase;
let connection: Connection;
before(async () => {
  database = await createMigratedDatabase();
  counting = createCountingDatabase(database.url);
  connection = await Connection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
});
after(async () => {
  await connection?.close();
  await counting?.close();
  await database?.drop();
});

it(`a ${BACKLOG}-row backlog costs at most ${MAX_STATEMENTS_PER_START} SQL statements per started workflow`, async () => {
  await commitPendingPayloads(database.db, BACKLOG);
  // Starts complete one by one, a few ms apart, as they do against a real server's spread of latencies.
  const probe = createStartProbe((n) => sleep((n % WINDOW) * 3));
  const temporal = new Client({ connection, interceptors: { workflow: [probe.interceptor] } });
  const startedBefore = Date.now();
  const starter = startWorkflowStarter({
    db: counting.db,
    temporal,
    taskQueue: `bookkeeping-${randomUUID().slice(0, 8)}`,
    logger: createLogger({}, () => undefined),
    window: WINDOW,
  });
  try {
    starter.poke();
    await waitFor(async () => (await startedPayloadCount(database.db)) === BACKLOG, {
      description: `all ${BACKLOG} rows started and marked`,
      timeoutMs: 60_000,
      intervalMs: 50,
    });
  } finally {
    await starter.stop();
  }
  const perStart = counting.statements() / BACKLOG;
  assert.ok(perStart <= MAX_STATEMENTS_PER_START, `${counting.statements()} statements for ${BACKLOG} starts`);
  assert.equal(probe.issued(), BACKLOG, 'one start per row');

  // A mark shared by many starts still dates each row to its own start, not to the mark's commit.
  const marked = await database.db
    .select({ at: rawPayloads.workflowStartedAt })
    .from(rawPayloads)
    .where(isNotNull(rawPayloads.workflowStartedAt));
  const distinct = new Set(marked.map((row) => row.at?.getTime()));
  assert.ok(distinct.size > BACKLOG / 2, `${distinct.size} distinct start times among ${BACKLOG} rows`);
  for (const row of marked) {
    const at = row.at?.getTime() ?? 0;
    assert.ok(at >= startedBefore - 1000 && at <= Date.now() + 1000, 'a start time within the test');
  }
});
