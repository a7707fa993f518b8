import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type IClientOptions } from 'mqtt';
import { testBrokerAccounts } from '../support/broker-accounts.js';
import { brokerKinds, type TestBroker } from '../support/test-brokers.js';
import { waitFor } from '../support/wait-for.js';

const BACKLOG = 10_000;
const noRetry: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000 };

for (const kind of brokerKinds) {
  describe(`${kind.name} as GreenGrader configures it`, () => {
    const accounts = testBrokerAccounts({ topic: 'submissions' });
    let broker: TestBroker;
    before(async () => {
      broker = await kind.start({ accounts, maxPayloadBytes: 1024 * 1024 });
    });
    after(async () => {
      await broker?.stop();
    });

    it(`holds ${BACKLOG} QoS 1 messages for the bridge's session while it is offline`, async () => {
      const session = { ...noRetry, ...accounts.bridge, clientId: accounts.bridgeClientId, clean: false };
      const bridge = await mqtt.connectAsync(broker.url, session);
      await bridge.subscribeAsync('submissions', { qos: 1 });
      await bridge.endAsync();

      const publisher = await mqtt.connectAsync(broker.url, { ...noRetry, ...accounts.publisher });
      // All in flight at once, as a burst of hooks would be; each resolves on its PUBACK.
      await Promise.all(
        Array.from({ length: BACKLOG }, (_, n) => publisher.publishAsync('submissions', `zip ${n}`, { qos: 1 })),
      );
      await publisher.endAsync();

      const received = new Set<string>();
      const back = mqtt.connect(broker.url, session);
      back.on('message', (_topic, payload) => received.add(payload.toString()));
      try {
        await waitFor(() => received.size === BACKLOG, {
          description: `${BACKLOG} queued messages delivered (${received.size} so far)`,
          timeoutMs: 60_000,
        });
        assert.equal(received.has('zip 0') && received.has(`zip ${BACKLOG - 1}`), true);
      } finally {
        await back.endAsync();
      }
    });
  });
}
