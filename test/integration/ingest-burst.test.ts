import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { count, isNotNull } from 'drizzle-orm';
import mqtt from 'mqtt';
import { startBridgeProcess } from '../../src/app/bridge-process.js';
import type { Config } from '../../src/config/config.js';
import { rawPayloads } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { freePort } from '../../src/services/index.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { waitFor } from '../support/wait-for.js';

/** Unique bytes that pass the bridge's cheap zip check: workflow ids are global in the shared Temporal. */
const fakeZip = (): Buffer => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from(randomUUID())]);

/** Publishes at QoS 1 with every message in flight at once; resolves when the broker acknowledged all. */
async function publishBurst(config: Config, messages: Buffer[]): Promise<void> {
  const publisher = await mqtt.connectAsync(config.MQTT_URL, {
    username: config.MQTT_PUBLISHER_USERNAME,
    password: config.MQTT_PUBLISHER_PASSWORD,
    clientId: `burst-${randomUUID().slice(0, 8)}`,
  });
  try {
    await Promise.all(messages.map((bytes) => publisher.publishAsync(config.MQTT_TOPIC, bytes, { qos: 1 })));
  } finally {
    await publisher.endAsync();
  }
}

describe('a deadline burst through the bridge', () => {
  let stack: GradingStack;
  let db: GradingStack['database']['db'];
  // A task queue no worker polls: the started workflows wait there, nothing is graded.
  const taskQueue = `ingest-burst-${randomUUID().slice(0, 8)}`;

  before(async () => {
    stack = await startGradingStack({ bridge: false, nodes: 0 });
    db = stack.database.db;
  });
  after(async () => {
    await stack?.stop();
  });

  const stored = async () => (await db.select({ n: count() }).from(rawPayloads))[0]?.n ?? 0;
  const started = async () =>
    (await db.select({ n: count() }).from(rawPayloads).where(isNotNull(rawPayloads.workflowStartedAt)))[0]?.n ?? 0;
  const executions = async () => (await stack.temporal.workflow.count(`TaskQueue = "${taskQueue}"`)).count;

  it('stores 3,000 messages published back to back and starts each one workflow, none lost, none twice', async () => {
    const config = { ...stack.config, TEMPORAL_TASK_QUEUE: taskQueue };
    const bridge = await startBridgeProcess(config, silentLogger, { shared: { db, temporal: stack.temporal } });
    try {
      await bridge.ready;
      await publishBurst(config, Array.from({ length: 3000 }, fakeZip));
      await waitFor(async () => (await stored()) === 3000, { timeoutMs: 60_000, description: '3,000 stored' });
      await waitFor(async () => (await started()) === 3000, { timeoutMs: 60_000, description: '3,000 started' });
      await waitFor(async () => (await executions()) === 3000, {
        timeoutMs: 30_000,
        description: '3,000 executions visible in Temporal',
      });
    } finally {
      await bridge.stop();
    }
  });

  it('acknowledges and stores while Temporal is unreachable; a new bridge starts what the stopped one left', async () => {
    const before = { stored: await stored(), started: await started() };
    const config = { ...stack.config, TEMPORAL_TASK_QUEUE: taskQueue };
    const unreachable = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const cutOff = await startBridgeProcess(config, silentLogger, { shared: { db, temporal: unreachable } });
    try {
      await cutOff.ready;
      // Resolves only when the broker has the messages; stored means the bridge acknowledged them.
      await publishBurst(config, Array.from({ length: 200 }, fakeZip));
      await waitFor(async () => (await stored()) === before.stored + 200, { timeoutMs: 20_000, description: 'stored' });
      assert.equal(await started(), before.started, 'nothing could be started');
    } finally {
      // Stopped without draining its pending starts, as a crash would leave them.
      await cutOff.stop();
    }
    const bridge = await startBridgeProcess(config, silentLogger, { shared: { db, temporal: stack.temporal } });
    try {
      await waitFor(async () => (await started()) === before.started + 200, {
        timeoutMs: 30_000,
        description: 'the pending 200 started',
      });
      await waitFor(async () => (await executions()) === 3200, { timeoutMs: 30_000, description: '3,200 executions' });
    } finally {
      await bridge.stop();
    }
  });
});
