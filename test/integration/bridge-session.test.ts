import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { connectDatabase } from '../../src/db/client.js';
import { sessionLockName } from '../../src/bridge/session-lock.js';
import { spawnBridge, type BridgeChild } from '../support/bridge-child.js';
import { mqttTestEnv, requireEnv } from '../support/env.js';
import { createFreshDatabase } from '../support/fresh-database.js';
import { fakeZip, publishFromLanes, writePayloadFiles } from '../support/publish-loops.js';
import { waitFor } from '../support/wait-for.js';

// Two clients with one id make the broker drop each in turn; the second bridge must refuse, not fight.
describe('a second bridge on the same MQTT session', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  /** A bridge's environment on a database of its own, with its own topic and client id. */
  async function sessionEnv() {
    const suffix = randomUUID().slice(0, 8);
    const database = await createFreshDatabase(requireEnv('DATABASE_URL'));
    cleanups.push(() => database.drop());
    const mqtt = mqttTestEnv();
    const env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: `bridge-session-${suffix}`,
      MQTT_URL: mqtt.url,
      MQTT_USERNAME: mqtt.bridge.username,
      MQTT_PASSWORD: mqtt.bridge.password,
      MQTT_TOPIC: `submissions/${suffix}`,
      MQTT_CLIENT_ID: `bridge-${suffix}`,
    };
    return { suffix, database, mqtt, env };
  }

  it('refuses to start with a clear error while the first runs, and starts once the first was killed', async () => {
    const { suffix, database, mqtt, env } = await sessionEnv();
    const first: BridgeChild = await spawnBridge(env);
    cleanups.push(() => first.kill());
    await first.waitUntilSubscribed();

    const second = await spawnBridge(env);
    cleanups.push(() => second.kill());
    // Its start (tsx, config, the lock) can take a while on a loaded 2-core machine.
    const exit = await second.exitedWithin(90_000);
    assert.deepEqual(
      exit,
      { code: 1, signal: null },
      `the second bridge exits with an error; its log:\n${second.log()}`,
    );
    assert.match(second.log(), new RegExp(`already consumes the MQTT session 'bridge-${suffix}'`));

    // The first was not disturbed: it still takes every message, each started once.
    const payloads = Array.from({ length: 40 }, fakeZip);
    await publishFromLanes(
      { url: mqtt.url, ...mqtt.publisher, topic: env.MQTT_TOPIC },
      await writePayloadFiles(payloads.slice(0, 20)),
      4,
    );
    const handle = connectDatabase(database.url, { maxConnections: 1 });
    cleanups.push(() => handle.close());
    const stored = async () =>
      (await handle.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_payloads')).rows[0]?.n;
    await waitFor(async () => (await stored()) === 20, { timeoutMs: 30_000, description: '20 stored' });

    // A crashed bridge frees the session at once: its successor starts and drains what waited at the broker.
    await first.kill();
    await publishFromLanes(
      { url: mqtt.url, ...mqtt.publisher, topic: env.MQTT_TOPIC },
      await writePayloadFiles(payloads.slice(20)),
      4,
    );
    const third = await spawnBridge(env);
    cleanups.push(() => third.stop());
    await third.waitUntilSubscribed();
    await waitFor(async () => (await stored()) === 40, { timeoutMs: 30_000, description: '40 stored' });

    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    cleanups.push(() => connection.close());
    const temporal = new Client({ connection });
    const executions = await waitFor(
      async () => {
        const { count } = await temporal.workflow.count(`TaskQueue = "${env.TEMPORAL_TASK_QUEUE}"`);
        return count >= 40 ? count : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: '40 executions' },
    );
    assert.equal(executions, 40);
    await third.stop();
  });

  it('stops, with the same error, when another bridge took the session while its lock connection was lost', async () => {
    const { suffix, database, mqtt, env } = await sessionEnv();
    const first = await spawnBridge(env);
    cleanups.push(() => first.kill());
    await first.waitUntilSubscribed();

    // PostgreSQL drops the connection holding the lock (as a restart would), and another bridge takes the lock
    // before the first takes it again (it retries every 2 s).
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    cleanups.push(() => other.end());
    await other.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where application_name = 'greengrader-bridge-lock' and datname = current_database()`,
    );
    // The terminated backend frees the lock as it exits, a moment after pg_terminate_backend returns.
    const lockName = sessionLockName(`'bridge-${suffix}' at ${new URL(mqtt.url).host}`);
    await waitFor(
      async () => {
        const { rows } = await other.query<{ locked: boolean }>(
          'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked',
          [lockName],
        );
        return rows[0]?.locked === true ? true : null;
      },
      { timeoutMs: 1_500, intervalMs: 10, description: 'the lock taken by the other bridge' },
    );

    const exit = await first.exitedWithin(60_000);
    assert.deepEqual(
      exit,
      { code: 1, signal: null },
      `the bridge exits with an error instead of fighting the other for the session; its log:\n${first.log()}`,
    );
    assert.match(first.log(), new RegExp(`already consumes the MQTT session 'bridge-${suffix}'`));
  });
});
