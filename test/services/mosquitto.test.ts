import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IClientOptions, type IConnackPacket } from 'mqtt';
import { startMosquitto, type RunningMosquitto } from '../../src/services/index.js';
import { testBrokerAccounts } from '../support/broker-accounts.js';

// No automatic reconnects: a refused login must surface as an error, not a retry loop.
const noRetry: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000 };

describe('the mosquitto launcher', () => {
  let dir: string;
  let broker: RunningMosquitto;
  const accounts = testBrokerAccounts();
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gg-mosquitto-test-'));
    broker = await startMosquitto({ dir, accounts, persistence: true, maxPayloadBytes: 1024 });
  });
  after(async () => {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients', async () => {
    await assert.rejects(mqtt.connectAsync(broker.url, noRetry), { code: 5 });
  });

  it('refuses a wrong password', async () => {
    await assert.rejects(mqtt.connectAsync(broker.url, { ...noRetry, username: 'grader', password: 'guess' }), {
      code: 5,
    });
  });

  it('accepts both logins', async () => {
    for (const login of [accounts.bridge, accounts.publisher]) {
      const client = await mqtt.connectAsync(broker.url, { ...noRetry, ...login });
      assert.equal(client.connected, true);
      await client.endAsync();
    }
  });

  it('delivers a QoS 1 message queued for an offline persistent session after a restart', async () => {
    const session = { ...noRetry, ...accounts.bridge, clientId: accounts.bridgeClientId, clean: false };
    const subscriber = await mqtt.connectAsync(broker.url, session);
    await subscriber.subscribeAsync('submissions/queued', { qos: 1 });
    await subscriber.endAsync();

    const publisher = await mqtt.connectAsync(broker.url, { ...noRetry, ...accounts.publisher });
    await publisher.publishAsync('submissions/queued', 'sent while offline', { qos: 1 });
    await publisher.endAsync();

    await broker.restart();

    // Listen before connecting: the broker sends the backlog right after CONNACK.
    const returning = mqtt.connect(broker.url, session);
    const connacked = new Promise<IConnackPacket>((resolve) => returning.once('connect', resolve));
    const delivered = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
      returning.once('message', (topic, payload, packet) =>
        resolve({ topic, payload: payload.toString(), qos: packet.qos }),
      ),
    );
    try {
      assert.equal((await connacked).sessionPresent, true, 'the session survived the restart');
      assert.deepEqual(await delivered, { topic: 'submissions/queued', payload: 'sent while offline', qos: 1 });
    } finally {
      await returning.endAsync();
    }
  });
});
