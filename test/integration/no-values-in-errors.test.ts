import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import mqtt from 'mqtt';
import { startBridgeProcess } from '../../src/app/bridge-process.js';
import { loadConfig } from '../../src/config/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { rawPayloads } from '../../src/db/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { redactActivityErrors } from '../../src/workers/redact-activity-errors.js';
import { requireEnv } from '../support/env.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { waitFor } from '../support/wait-for.js';
import type { FailingQueryActivities } from './support/failing-query-workflow.js';

/** What a submission's bytes hold and what must never be seen outside the database. */
const STUDENT = 'Jane Quinn Student <jane.quinn.student@example.edu> SID A87654321';

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined };
const workflowsPath = fileURLToPath(new URL('./support/failing-query-workflow.ts', import.meta.url));

describe('database failures are told without their values', () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let bundle: WorkflowBundle;
  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    handle = connectDatabase(fresh.url);
    await migrateDatabase(handle.pool);
    bundle = await bundleWorkflowCode({
      workflowsPath,
      logger: { ...quietLogger, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  });
  after(async () => {
    await handle?.close();
    await fresh?.drop();
  });

  /** Runs the failing workflow on a worker with the given interceptors; returns its whole history as text. */
  async function failingRunHistory(redact: boolean): Promise<{ history: string; message: string }> {
    const taskQueue = `no-values-${randomUUID().slice(0, 8)}`;
    const connection = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
    const clientConnection = await Connection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
    const activities: FailingQueryActivities = {
      async insertTwice(value) {
        const row = { sha256: `dup-${taskQueue}`, bytes: Buffer.from(value), sizeBytes: value.length, topic: value };
        await handle.db.insert(rawPayloads).values(row);
        await handle.db.insert(rawPayloads).values(row);
      },
    };
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: bundle,
      activities,
      ...(redact ? { interceptors: { activity: [redactActivityErrors] } } : {}),
    });
    try {
      return await worker.runUntil(async () => {
        const client = new Client({ connection: clientConnection });
        const handle = await client.workflow.start('failingQueryWorkflow', {
          taskQueue,
          workflowId: taskQueue,
          args: [STUDENT],
        });
        const failure = await handle.result().then(
          () => assert.fail('the workflow should have failed'),
          (error: unknown) => error,
        );
        assert.ok(failure instanceof WorkflowFailedError);
        const history = JSON.stringify(await handle.fetchHistory());
        const activity = failure.cause;
        assert.ok(activity instanceof ActivityFailure && activity.cause instanceof ApplicationFailure);
        return { history, message: activity.cause.message };
      });
    } finally {
      await connection.close();
      await clientConnection.close();
    }
  }

  it("keeps a failed query's parameters out of the workflow's history", async () => {
    // Without the interceptor the history holds the student's line (drizzle renders every parameter).
    const leaking = await failingRunHistory(false);
    assert.ok(leaking.history.includes('jane.quinn.student'), 'the unredacted history shows the value');

    const redacted = await failingRunHistory(true);
    assert.ok(!redacted.history.includes('jane.quinn.student'), 'no email in the history');
    assert.ok(!redacted.history.includes('A87654321'), 'no SID in the history');
    assert.match(redacted.message, /^database unique violation \[23505\] on table raw_payloads/);
    assert.match(redacted.message, /constraint raw_payloads_pkey/);
    assert.match(redacted.message, /\(insert into "raw_payloads"/);
  });

  it("logs no payload byte while the bridge's database is gone and it retries", async () => {
    const own = await createFreshDatabase(requireEnv('DATABASE_URL'));
    const ownHandle = connectDatabase(own.url);
    await migrateDatabase(ownHandle.pool);
    const suffix = randomUUID().slice(0, 8);
    const config = loadConfig({
      DATABASE_URL: own.url,
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: `no-values-${suffix}`,
      MQTT_URL: requireEnv('MQTT_URL'),
      MQTT_USERNAME: requireEnv('MQTT_USERNAME'),
      MQTT_PASSWORD: requireEnv('MQTT_PASSWORD'),
      MQTT_PUBLISHER_USERNAME: requireEnv('MQTT_PUBLISHER_USERNAME'),
      MQTT_PUBLISHER_PASSWORD: requireEnv('MQTT_PUBLISHER_PASSWORD'),
      MQTT_TOPIC: `submissions/${suffix}`,
      MQTT_CLIENT_ID: `greengrader-bridge-${suffix}`,
    });
    const lines: string[] = [];
    const logger = createLogger({}, (line) => lines.push(line));
    const temporal = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }) });
    const bridge = await startBridgeProcess(config, logger, { shared: { db: ownHandle.db, temporal } });
    try {
      await bridge.ready;
      await own.drop();
      // Stored uncompressed, as a zip's STORE entries are: the bytes carry the student's line as it is.
      const payload = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from(`${STUDENT} ${suffix}`)]);
      const publisher = await mqtt.connectAsync(config.MQTT_URL, {
        username: config.MQTT_PUBLISHER_USERNAME,
        password: config.MQTT_PUBLISHER_PASSWORD,
        clientId: `publisher-${suffix}`,
      });
      try {
        await publisher.publishAsync(config.MQTT_TOPIC, payload, { qos: 1 });
      } finally {
        await publisher.endAsync();
      }
      const retries = await waitFor(
        () => {
          const failed = lines.filter((line) => line.includes('could not accept message'));
          return failed.length >= 2 ? failed : undefined;
        },
        { timeoutMs: 20_000, description: 'the bridge retrying the message twice' },
      );
      assert.match(retries[0] ?? '', /DatabaseQueryError/);
      assert.match(retries[0] ?? '', /database (does not exist|unreachable)/);
      for (const line of lines) {
        assert.ok(!line.includes('jane.quinn.student') && !line.includes('A87654321'), `leaked: ${line}`);
      }
    } finally {
      await bridge.stop();
      await ownHandle.close().catch(() => undefined);
      await temporal.connection.close();
    }
  });
});
