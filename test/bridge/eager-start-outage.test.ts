// Eager starts go through Core's client, whose retries of an unanswered call reach 5 s apart: after a Temporal
// outage the starter must still resume within about a second, by probing through the bridge's own client.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, it } from 'node:test';
import { CleanupStack } from '../../src/app/cleanup-stack.js';
import { createMigratedDatabase } from '../support/migrated-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { waitFor } from '../support/wait-for.js';
import { eagerStarts, startEagerStarter } from './support/eager-starts.js';
import { expectStartsToResumeAfterOutage, startOwnTemporal } from './support/temporal-outage.js';

/** Long enough for Core's retries of a start to reach their 5-s spacing; well inside a worker's 60-s poll grace. */
const OUTAGE_MS = 15_000;
/** As for the bridge's own client (workflow-starter-outage.test.ts): ~1–2 s, 3 s leaves room for a busy machine. */
const RESUME_BOUND_MS = 3_000;

const cleanup = new CleanupStack(() => undefined);
after(() => cleanup.runAll());

it('with eager starts, pending rows start within seconds of a stopped Temporal answering, and eagerly again', async () => {
  const own = await startOwnTemporal('gg-eager-outage-', cleanup);
  const database = await createMigratedDatabase();
  cleanup.push('database', () => database.drop());
  const taskQueue = `eager-outage-${randomUUID().slice(0, 8)}`;
  const { starter } = await startEagerStarter(own.address, database.db, taskQueue, cleanup);

  const eagerBefore = await eagerStarts();
  await commitPendingPayloads(database.db, 4);
  starter.poke();
  await waitFor(async () => (await startedPayloadCount(database.db)) === 4, {
    description: '4 started before the outage',
  });
  assert.equal((await eagerStarts()) - eagerBefore, 4, 'the starts before the outage were eager');
  await expectStartsToResumeAfterOutage({
    ...{ db: database.db, starter, temporal: own, startedBefore: 4, pendingDuring: 20 },
    ...{ outageMs: OUTAGE_MS, resumeBoundMs: RESUME_BOUND_MS },
  });
  assert.ok((await eagerStarts()) - eagerBefore > 4, 'starts after the outage went eagerly again');
});
