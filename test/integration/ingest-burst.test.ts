import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { count, isNotNull } from 'drizzle-orm';
import { startBridgeProcess } from '../../src/app/bridge-process.js';
import { rawPayloads } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startDefaultMosquitto, type DefaultMosquitto } from '../support/default-mosquitto.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { fakeZip, publishBurst } from '../support/publish-loops.js';
import { waitFor } from '../support/wait-for.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a deadline burst through a default-config Mosquitto', () => {
  let stack: GradingStack;
  let broker: DefaultMosquitto;
  // A task queue no worker polls: the started workflows wait there, nothing is graded.
  const taskQueue = `ingest-burst-${randomUUID().slice(0, 8)}`;

  before(async () => {
    stack = await startGradingStack({ bridge: false, nodes: 0 });
    broker = await startDefaultMosquitto();
  });
  after(async () => {
    await broker?.stop();
    await stack?.stop();
  });

  // At the defaults (max_inflight_messages 20, max_queued_messages 1000) a broker drops the QoS 1 messages of a
  // burst a 3.1.1 bridge has not taken yet; published in about a second, 3,000 outrun any bridge's commits.
  it('stores and starts all of a 3,000-message burst published in seconds, none lost, none twice', async () => {
    const { db } = stack.database;
    const config = {
      ...stack.config,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MQTT_URL: broker.url,
      MQTT_USERNAME: broker.username,
      MQTT_PASSWORD: broker.password,
    };
    const payloads = Array.from({ length: 3000 }, fakeZip);
    const bridge = await startBridgeProcess(config, silentLogger, { shared: { db, temporal: stack.temporal } });
    try {
      await bridge.ready;
      const target = {
        url: broker.url,
        username: broker.username,
        password: broker.password,
        topic: config.MQTT_TOPIC,
      };
      await publishBurst(target, payloads, 8);
      const stored = await waitFor(
        async () => {
          const rows = await db.select({ sha256: rawPayloads.sha256 }).from(rawPayloads);
          return rows.length >= 3000 ? rows : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500, description: '3,000 rows stored' },
      );
      assert.deepEqual(new Set(stored.map((row) => row.sha256)), new Set(payloads.map(sha256)));
      await waitFor(
        async () =>
          (await db.select({ n: count() }).from(rawPayloads).where(isNotNull(rawPayloads.workflowStartedAt)))[0]?.n ===
          3000,
        { timeoutMs: 180_000, intervalMs: 500, description: '3,000 workflows started' },
      );
      const executions = await waitFor(
        async () => {
          const { count: n } = await stack.temporal.workflow.count(`TaskQueue = "${taskQueue}"`);
          return n >= 3000 ? n : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, description: '3,000 executions visible in Temporal' },
      );
      assert.equal(executions, 3000, 'one workflow per message');
    } finally {
      await bridge.stop();
    }
  });
});
