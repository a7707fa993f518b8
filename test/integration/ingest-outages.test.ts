import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { freePort, startTemporal, type RunningTemporal } from '../../src/services/index.js';
import { spawnBridge, type BridgeChild } from '../support/bridge-child.js';
import { mqttTestEnv, requireEnv } from '../support/env.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { fakeZip, publishFromLanes, writePayloadFiles } from '../support/publish-loops.js';
import { waitFor } from '../support/wait-for.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A fresh database, topic, client id and task queue: what one bridge process works on. */
async function bridgeSetting(temporalAddress: string) {
  const suffix = randomUUID().slice(0, 8);
  const database = await createFreshDatabase(requireEnv('DATABASE_URL'));
  const mqtt = mqttTestEnv();
  const env = {
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: `ingest-outage-${suffix}`,
    MQTT_URL: mqtt.url,
    MQTT_USERNAME: mqtt.bridge.username,
    MQTT_PASSWORD: mqtt.bridge.password,
    MQTT_TOPIC: `submissions/${suffix}`,
    MQTT_CLIENT_ID: `bridge-${suffix}`,
  };
  const broker = { url: mqtt.url, ...mqtt.publisher, topic: env.MQTT_TOPIC };
  return { database, env, broker };
}

/** Counts of what the bridge committed: rows stored, and rows whose workflow it started. */
async function progress(handle: DatabaseHandle) {
  const { rows } = await handle.pool.query<{ sha256: string; started: boolean }>(
    'SELECT sha256, workflow_started_at IS NOT NULL AS started FROM raw_payloads',
  );
  return { shas: new Set(rows.map((row) => row.sha256)), started: rows.filter((row) => row.started).length };
}

describe('ingest through outages', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  const track = <T>(value: T, cleanup: (value: T) => Promise<unknown>): T => {
    cleanups.push(() => cleanup(value));
    return value;
  };

  it('a bridge killed with SIGKILL mid-burst, then restarted, loses no message and starts no workflow twice', async () => {
    const temporalAddress = requireEnv('TEMPORAL_ADDRESS');
    const { database, env, broker } = await bridgeSetting(temporalAddress);
    track(database, (db: FreshDatabase) => db.drop());
    const payloads = Array.from({ length: 600 }, fakeZip);
    const files = await writePayloadFiles(payloads);
    const first: BridgeChild = track(await spawnBridge(env), (bridge) => bridge.kill());
    await first.waitUntilSubscribed();
    const handle = track(connectDatabase(database.url, { maxConnections: 2 }), (h) => h.close());

    // The publishers go on while the bridge is dead: the broker keeps the messages in its persistent session.
    const publishing = publishFromLanes(broker, files, 4);
    await waitFor(async () => (await progress(handle)).shas.size >= 150, {
      timeoutMs: 60_000,
      intervalMs: 20,
      description: '150 stored before the kill',
    });
    await first.kill();
    const atKill = (await progress(handle)).shas.size;
    assert.ok(atKill < 600, `the kill came mid-burst (${atKill} stored)`);

    const second = track(await spawnBridge(env), (bridge) => bridge.stop());
    await second.waitUntilSubscribed();
    await publishing;
    const done = await waitFor(
      async () => {
        const now = await progress(handle);
        return now.shas.size >= 600 && now.started >= 600 ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, description: '600 stored and started after the restart' },
    );
    assert.deepEqual(done.shas, new Set(payloads.map(sha256)), 'every message stored, nothing else');

    const connection = track(await Connection.connect({ address: temporalAddress }), (c) => c.close());
    const temporal = new Client({ connection });
    const executions = await waitFor(
      async () => {
        const { count } = await temporal.workflow.count(`TaskQueue = "${env.TEMPORAL_TASK_QUEUE}"`);
        return count >= 600 ? count : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: '600 executions visible' },
    );
    assert.equal(executions, 600, 'one workflow per message, none started twice');
    await second.stop();
  });

  it('keeps acknowledging while the Temporal server is stopped, and starts every workflow once it is back', async () => {
    // Its own server on a fixed port and SQLite file: stopping it disturbs no other test.
    const dir = track(await mkdtemp(path.join(tmpdir(), 'gg-ingest-outage-')), (d) =>
      rm(d, { recursive: true, force: true }),
    );
    const dbFile = path.join(dir, 'temporal.db');
    const port = await freePort();
    const cliPath = requireEnv('TEMPORAL_CLI');
    let server: RunningTemporal | undefined = await startTemporal({ dbFile, port, cliPath });
    cleanups.push(() => server?.stop() ?? Promise.resolve());

    const { database, env, broker } = await bridgeSetting(server.address);
    track(database, (db: FreshDatabase) => db.drop());
    const bridge = track(await spawnBridge(env), (b) => b.stop());
    await bridge.waitUntilSubscribed();
    const handle = track(connectDatabase(database.url, { maxConnections: 2 }), (h) => h.close());
    const payloads = Array.from({ length: 400 }, fakeZip);
    const files = await writePayloadFiles(payloads);

    await publishFromLanes(broker, files.slice(0, 100), 4);
    await server.stop();
    server = undefined;
    const atStop = await progress(handle);
    // mosquitto_pub returns on the broker's PUBACK; the bridge must take these off the broker and commit them.
    await publishFromLanes(broker, files.slice(100), 4);
    await waitFor(async () => (await progress(handle)).shas.size >= 400, {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: 'all 400 stored while Temporal is down',
    });
    assert.equal((await progress(handle)).started, atStop.started, 'nothing can start while Temporal is down');

    server = await startTemporal({ dbFile, port, cliPath });
    const done = await waitFor(
      async () => {
        const now = await progress(handle);
        return now.started >= 400 ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, description: 'all 400 started after Temporal returned' },
    );
    assert.deepEqual(done.shas, new Set(payloads.map(sha256)));
    const connection = track(await Connection.connect({ address: server.address }), (c) => c.close());
    const temporal = new Client({ connection });
    const executions = await waitFor(
      async () => {
        const { count } = await temporal.workflow.count(`TaskQueue = "${env.TEMPORAL_TASK_QUEUE}"`);
        return count >= 400 ? count : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: '400 executions visible' },
    );
    assert.equal(executions, 400, 'one workflow per message');
    await bridge.stop();
  });
});
