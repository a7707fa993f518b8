// After a Temporal outage the bridge's starter resumes within about a second of the server answering again,
// through the client the bridge really uses (its reconnect and retry settings are half of the answer).
import { randomUUID } from 'node:crypto';
import { after, it } from 'node:test';
import { CleanupStack } from '../../src/app/cleanup-stack.js';
import { connectTemporalClient } from '../../src/app/temporal-connections.js';
import { startWorkflowStarter } from '../../src/bridge/workflow-starter.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMigratedDatabase } from '../support/migrated-database.js';
import { commitPendingPayloads, startedPayloadCount } from '../support/pending-payloads.js';
import { waitFor } from '../support/wait-for.js';
import { expectStartsToResumeAfterOutage, startOwnTemporal } from './support/temporal-outage.js';

/** Long enough for every backoff (gRPC's reconnect, the client's per-call retry, the starter's) to reach its cap. */
const OUTAGE_MS = 15_000;
/** The promise: pending starts resume within ~1–2 s of the server answering; 3 s leaves room for a busy machine. */
const RESUME_BOUND_MS = 3_000;

const cleanup = new CleanupStack(() => undefined);
after(() => cleanup.runAll());

it('pending rows start within seconds of a stopped Temporal server answering again', async () => {
  const own = await startOwnTemporal('gg-starter-outage-', cleanup);
  const database = await createMigratedDatabase();
  cleanup.push('database', () => database.drop());
  const temporal = await connectTemporalClient(loadConfig({ TEMPORAL_ADDRESS: own.address }), cleanup);
  const starter = startWorkflowStarter({
    db: database.db,
    temporal,
    taskQueue: `starter-outage-${randomUUID().slice(0, 8)}`,
    logger: createLogger({}, () => undefined),
  });
  cleanup.push('starter', () => starter.stop());

  await commitPendingPayloads(database.db, 10);
  starter.poke();
  await waitFor(async () => (await startedPayloadCount(database.db)) === 10, {
    description: '10 started before the outage',
  });
  await expectStartsToResumeAfterOutage({
    ...{ db: database.db, starter, temporal: own, startedBefore: 10, pendingDuring: 20 },
    ...{ outageMs: OUTAGE_MS, resumeBoundMs: RESUME_BOUND_MS },
  });
});
