import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { testBrokerAccounts } from '../support/broker-accounts.js';
import { brokerKinds, type TestBroker } from '../support/test-brokers.js';
import { generateTlsFiles, type TlsFiles } from '../support/tls-files.js';
import { waitFor } from '../support/wait-for.js';

const TOPIC = 'submissions';
const MAX_PAYLOAD_BYTES = 4096;
// No automatic reconnects: a refusal must surface as an error, not a retry loop.
const noRetry: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000 };

/** Resolves with the error that ended `promise`, or with 'closed' when the broker closes the connection first. */
async function refusal(client: MqttClient, promise: Promise<unknown>): Promise<unknown> {
  client.on('error', () => undefined); // the reset connection is the expected outcome
  const closed = new Promise((resolve) => client.once('close', () => resolve('closed')));
  return Promise.race([
    promise.then(
      () => 'accepted',
      (error: unknown) => error,
    ),
    closed,
  ]);
}

for (const kind of brokerKinds) {
  describe(`${kind.name}: each login may do only its part`, () => {
    const accounts = testBrokerAccounts({ topic: TOPIC });
    let tls: TlsFiles;
    let broker: TestBroker;
    const open: MqttClient[] = [];
    const connect = async (options: IClientOptions, url = broker.url): Promise<MqttClient> => {
      const client = await mqtt.connectAsync(url, { ...noRetry, ...options });
      open.push(client);
      return client;
    };
    /** A bridge-login client (not the bridge's id) collecting what arrives on the topic. */
    const observe = async (): Promise<string[]> => {
      const seen: string[] = [];
      const observer = await connect({ ...accounts.bridge });
      observer.on('message', (_topic, payload) =>
        seen.push(payload.length > 64 ? `${payload.length} bytes` : payload.toString()),
      );
      await observer.subscribeAsync(TOPIC, { qos: 1 });
      return seen;
    };

    before(async () => {
      tls = await generateTlsFiles();
      broker = await kind.start({
        accounts,
        maxPayloadBytes: MAX_PAYLOAD_BYTES,
        tls: { certFile: tls.certFile, keyFile: tls.keyFile },
      });
    });
    after(async () => {
      await Promise.all(open.map((client) => client.endAsync(true)));
      await broker?.stop();
      await rm(tls.dir, { recursive: true, force: true });
    });

    it('refuses anonymous clients and wrong passwords', async () => {
      // CONNACK 5 (not authorised) from Mosquitto, 4 (bad username or password) from aedes.
      const refused = (error: unknown) => [4, 5].includes((error as { code?: number }).code ?? 0);
      await assert.rejects(mqtt.connectAsync(broker.url, noRetry), refused);
      for (const login of [accounts.publisher, accounts.bridge]) {
        await assert.rejects(mqtt.connectAsync(broker.url, { ...noRetry, ...login, password: 'guess' }), refused);
      }
    });

    it('lets the publisher publish but not subscribe', async () => {
      const seen = await observe();
      const publisher = await connect({ ...accounts.publisher });
      // aedes refuses it in the SUBACK (0x80, an error to mqtt.js); Mosquitto 2.0 grants an MQTT 3.1.1
      // subscription the ACL denies and then delivers nothing on it.
      const subscribed = await publisher.subscribeAsync(TOPIC, { qos: 1 }).then(
        () => 'granted',
        () => 'refused',
      );
      if (kind.name !== 'Mosquitto') assert.equal(subscribed, 'refused');
      const leaked: string[] = [];
      publisher.on('message', (_topic, payload) => leaked.push(payload.toString()));
      await publisher.publishAsync(TOPIC, 'published by the hook', { qos: 1 });
      await waitFor(() => seen.includes('published by the hook'), { description: 'the bridge login received it' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // what the broker sends both, it sends together
      assert.deepEqual(leaked, []);
    });

    it('refuses publishes by the bridge login', async () => {
      const seen = await observe();
      const bridge = await connect({ ...accounts.bridge });
      // Mosquitto acknowledges and drops a denied MQTT 3.1.1 publish; the embedded broker closes the connection.
      await refusal(bridge, bridge.publishAsync(TOPIC, 'forged by the bridge login', { qos: 1 }));
      const publisher = await connect({ ...accounts.publisher });
      await publisher.publishAsync(TOPIC, 'marker', { qos: 1 });
      await waitFor(() => seen.includes('marker'), { description: 'the marker published after the forgery' });
      assert.deepEqual(seen, ['marker']);
    });

    it("keeps the bridge's queued session from a publisher using its client id", async () => {
      const session = { ...accounts.bridge, clientId: accounts.bridgeClientId, clean: false };
      const bridge = await connect(session);
      await bridge.subscribeAsync(TOPIC, { qos: 1 });
      await bridge.endAsync();
      const publisher = await connect({ ...accounts.publisher });
      const queued = ['queued 1', 'queued 2', 'queued 3'];
      for (const message of queued) await publisher.publishAsync(TOPIC, message, { qos: 1 });

      // Mosquitto: refused by deploy/mosquitto/client-id-guard; the embedded broker checks it itself.
      for (const clean of [false, true]) {
        await assert.rejects(
          mqtt.connectAsync(broker.url, {
            ...noRetry,
            ...accounts.publisher,
            clientId: accounts.bridgeClientId,
            clean,
          }),
          (error: Error & { code?: number }) => error.code === 5,
          `CONNACK 5 (not authorised) for the publisher with the bridge's client id (clean: ${String(clean)})`,
        );
      }

      // The handler goes on before CONNACK: the broker sends the queue right after it.
      const back = mqtt.connect(broker.url, { ...noRetry, ...session });
      open.push(back);
      const received: string[] = [];
      back.on('message', (_topic, payload) => received.push(payload.toString()));
      await waitFor(() => received.length >= queued.length, { description: 'every message queued while offline' });
      assert.deepEqual(received, queued);
    });

    it("refuses the bridge's client id with the bridge's username and a wrong password", async () => {
      await assert.rejects(
        mqtt.connectAsync(broker.url, {
          ...noRetry,
          ...accounts.bridge,
          password: 'guess',
          clientId: accounts.bridgeClientId,
        }),
        (error: Error & { code?: number }) => [4, 5].includes(error.code ?? 0),
      );
    });

    it('lets the publisher connect with any other client id', async () => {
      const publisher = await connect({ ...accounts.publisher, clientId: `${accounts.bridgeClientId}-not` });
      assert.equal(publisher.connected, true);
      await publisher.publishAsync(TOPIC, 'from another client id', { qos: 1 });
    });

    it('refuses a payload over MAX_PAYLOAD_BYTES at the broker and delivers one at the limit', async () => {
      const seen = await observe();
      const oversized = await connect({ ...accounts.publisher });
      const outcome = await refusal(
        oversized,
        oversized.publishAsync(TOPIC, Buffer.alloc(MAX_PAYLOAD_BYTES + 1), { qos: 1 }),
      );
      assert.notEqual(outcome, 'accepted', 'the broker closed the connection instead of acknowledging');
      const publisher = await connect({ ...accounts.publisher });
      await publisher.publishAsync(TOPIC, Buffer.alloc(MAX_PAYLOAD_BYTES), { qos: 1 });
      await waitFor(() => seen.length > 0, { description: 'the largest allowed payload' });
      assert.deepEqual(seen, [`${MAX_PAYLOAD_BYTES} bytes`]);
    });

    it('serves TLS with a certificate of the generated CA and refuses plaintext on the TLS port', async () => {
      const tlsUrl = broker.tlsUrl;
      assert.ok(tlsUrl !== undefined);
      const ca = await readFile(tls.caFile);
      const secure = await connect({ ...accounts.publisher, ca }, tlsUrl);
      await secure.publishAsync(TOPIC, 'over TLS', { qos: 1 });
      const plain = tlsUrl.replace('mqtts://', 'mqtt://');
      // `false`: a broker closing the connection ends the attempt instead of leaving it waiting for a retry.
      await assert.rejects(mqtt.connectAsync(plain, { ...noRetry, ...accounts.publisher }, false));
      await assert.rejects(
        mqtt.connectAsync(tlsUrl, { ...noRetry, ...accounts.publisher }, false),
        /self.signed|certificate/i,
        'a client without the CA does not trust the broker',
      );
    });
  });
}
