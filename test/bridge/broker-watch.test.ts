import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startBrokerWatch, type BrokerWatch } from '../../src/bridge/broker-watch.js';
import { createLogger } from '../../src/observability/logger.js';
import { metrics } from '../../src/observability/metrics.js';
import { testBrokerAccounts } from '../support/broker-accounts.js';
import { brokerKinds, type TestBroker } from '../support/test-brokers.js';
import { waitFor } from '../support/wait-for.js';

const [mosquittoKind, embeddedKind] = brokerKinds;
const noRetry: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5_000 };
/** Mosquitto's own default queue limit, which the shipped config raises to 10,000. */
const MOSQUITTO_DEFAULT_MAX_QUEUED = 1000;

interface LogLine {
  level: string;
  message: string;
  dropped?: number;
}

describe("the bridge's broker watch", () => {
  const accounts = testBrokerAccounts({ topic: 'submissions' });
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** A watch as the bridge process starts it, with its log lines collected. */
  const watch = async (broker: TestBroker): Promise<{ lines: LogLine[]; watch: BrokerWatch }> => {
    const lines: LogLine[] = [];
    const logger = createLogger({}, (line) => lines.push(JSON.parse(line) as LogLine));
    const bridgeClient: MqttClient = await mqtt.connectAsync(broker.url, { ...noRetry, ...accounts.bridge });
    const started = startBrokerWatch({
      url: broker.url,
      login: accounts.bridge,
      clientId: `watch-${Math.random().toString(36).slice(2, 8)}`,
      tls: {},
      bridgeClient,
      topic: accounts.topic,
      logger,
      versionTimeoutMs: 5_000,
    });
    cleanups.push(async () => {
      await started.stop();
      await bridgeClient.endAsync();
    });
    return { lines, watch: started };
  };
  const warnings = (lines: LogLine[]) => lines.filter((line) => line.level === 'warn');

  it("warns when Mosquitto drops the offline bridge's messages, at start and as the count grows", async () => {
    assert.ok(mosquittoKind !== undefined);
    const broker = await mosquittoKind.start({
      accounts,
      maxPayloadBytes: 1024,
      maxQueuedMessages: MOSQUITTO_DEFAULT_MAX_QUEUED,
      sysIntervalSec: 1,
    });
    cleanups.push(() => broker.stop());
    const running = await watch(broker);
    await waitFor(() => running.lines.some((line) => line.message === 'broker identified'), {
      description: 'the watch read $SYS/broker/version',
    });
    assert.deepEqual(warnings(running.lines), [], 'nothing dropped yet');

    // The bridge's session goes offline and a burst overflows Mosquitto's default queue.
    const session = { ...noRetry, ...accounts.bridge, clientId: accounts.bridgeClientId, clean: false };
    const bridge = await mqtt.connectAsync(broker.url, session);
    await bridge.subscribeAsync('submissions', { qos: 1 });
    await bridge.endAsync();
    const publisher = await mqtt.connectAsync(broker.url, { ...noRetry, ...accounts.publisher });
    const burst = MOSQUITTO_DEFAULT_MAX_QUEUED + 100;
    await Promise.all(
      Array.from({ length: burst }, (_, n) => publisher.publishAsync('submissions', `${n}`, { qos: 1 })),
    );
    await publisher.endAsync();

    const grew = await waitFor(() => warnings(running.lines).find((line) => line.message.includes('more messages')), {
      description: 'a warning that the dropped count grew',
    });
    assert.ok((grew.dropped ?? 0) >= 100, `at least the 100 over the limit: ${String(grew.dropped)}`);
    assert.equal((await metrics.brokerMessagesDropped.get()).values[0]?.value, grew.dropped);

    // A bridge starting on this broker later is told at once.
    const later = await watch(broker);
    const atStart = await waitFor(() => warnings(later.lines).find((line) => line.message.includes('defaults')), {
      description: 'the start-up warning about default-looking limits',
    });
    assert.match(atStart.message, /dropped \d+ messages since it started/);
  });

  it('knows the embedded broker keeps its queues without a count limit, and warns of nothing', async () => {
    assert.ok(embeddedKind !== undefined);
    const broker = await embeddedKind.start({ accounts, maxPayloadBytes: 1024 });
    cleanups.push(() => broker.stop());
    const running = await watch(broker);
    const identified = await waitFor(() => running.lines.find((line) => line.message === 'broker identified'), {
      description: 'the watch read $SYS/broker/version',
    });
    assert.match(JSON.stringify(identified), /embedded broker/);
    assert.deepEqual(warnings(running.lines), []);
  });
});
