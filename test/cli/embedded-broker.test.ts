import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type RunningEmbeddedBroker } from '../../src/services/embedded-broker.js';
import { testBrokerAccounts } from '../support/broker-accounts.js';

const accounts = testBrokerAccounts({ topic: 'submissions' });
const options = { accounts, maxPayloadBytes: 1024 };

describe("up's embedded MQTT broker", () => {
  let broker: RunningEmbeddedBroker;
  before(async () => {
    broker = await startEmbeddedBroker(options);
  });
  after(async () => {
    await broker?.stop();
  });

  const client = (given: mqtt.IClientOptions) =>
    mqtt.connectAsync(
      broker.url,
      { reconnectPeriod: 0, connectTimeout: 5_000, ...accounts.publisher, ...given },
      false,
    );

  it('refuses a wrong password and an anonymous client', async () => {
    await assert.rejects(client({ password: 'wrong' }), /Bad username or password/);
    await assert.rejects(client({ username: undefined, password: undefined }), /Bad username or password/);
  });

  it('keeps QoS 1 messages for a persistent session while its client is away', async () => {
    const clientId = accounts.bridgeClientId;
    const bridge = await client({ clientId, clean: false, ...accounts.bridge });
    await bridge.subscribeAsync('submissions', { qos: 1 });
    await bridge.endAsync();

    const publisher = await client({});
    for (const n of [1, 2, 3]) await publisher.publishAsync('submissions', `zip ${n}`, { qos: 1 });
    await publisher.endAsync();
    assert.equal(await broker.waitUntilAcknowledged('submissions', clientId, 200), 3, 'nobody acknowledged them');

    const received: string[] = [];
    const back = mqtt.connect(broker.url, { clientId, clean: false, reconnectPeriod: 0, ...accounts.bridge });
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => back.once('connect', resolve));
    assert.equal(connack.sessionPresent, true);
    assert.equal(await broker.waitUntilAcknowledged('submissions', clientId, 5_000), 0);
    assert.deepEqual(received, ['zip 1', 'zip 2', 'zip 3']);
    await back.endAsync();
  });

  it('closes its port when stopped', async () => {
    const other = await startEmbeddedBroker(options);
    await other.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: other.host, port: other.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    assert.equal(refused, true);
  });
});
