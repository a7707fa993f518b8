import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket } from 'mqtt';
import { startMosquitto, type RunningMosquitto } from '../../src/services/index.js';

// No automatic reconnects: a refused login must surface as an error, not a retry loop.
const noRetry: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000 };

describe('the mosquitto launcher', () => {
  let dir: string;
  let broker: RunningMosquitto;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gg-mosquitto-test-'));
    broker = await startMosquitto({ dir, username: 'grader', password: 's3cret', persistence: true });
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

  it('accepts the generated credentials', async () => {
    const client = await mqtt.connectAsync(broker.url, { ...noRetry, username: broker.username, password: broker.password });
    assert.equal(client.connected, true);
    await client.endAsync();
  });

  it('delivers a QoS 1 message queued for an offline persistent session after a restart', async () => {
    const login = { ...noRetry, username: broker.username, password: broker.password };
    const session = { ...login, clientId: 'gg-test-persistent-subscriber', clean: false };
    const subscriber = await mqtt.connectAsync(broker.url, session);
    await subscriber.subscribeAsync('gg/test/queued', { qos: 1 });
    await subscriber.endAsync();

    const publisher = await mqtt.connectAsync(broker.url, login);
    await publisher.publishAsync('gg/test/queued', 'sent while offline', { qos: 1 });
    await publisher.endAsync();

    await broker.restart();

    // Listen before connecting: the broker sends the backlog right after CONNACK.
    const returning = mqtt.connect(broker.url, session);
    const messages: Promise<[string, Buffer, IPublishPacket]> = once(returning, 'message') as Promise<
      [string, Buffer, IPublishPacket]
    >;
    try {
      const [connack] = (await once(returning, 'connect')) as [IConnackPacket];
      assert.equal(connack.sessionPresent, true, 'the session survived the restart');
      const [topic, payload, packet] = await messages;
      assert.equal(topic, 'gg/test/queued');
      assert.equal(payload.toString(), 'sent while offline');
      assert.equal(packet.qos, 1);
    } finally {
      await returning.endAsync();
    }
  });
});
