// Which MQTT the bridge speaks decides what a broker holds for it during a burst: a stock Mosquitto keeps only
// 20 in flight and 1000 queued for a 3.1.1 subscriber, and drops the rest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { Acceptance } from '../../src/bridge/accept-payload.js';
import { startBridge } from '../../src/bridge/mqtt-bridge.js';
import { createLogger } from '../../src/observability/logger.js';
import { startEmbeddedBroker } from '../../src/services/embedded-broker.js';
import { testBrokerAccounts } from '../support/broker-accounts.js';
import { startDefaultMosquitto } from '../support/default-mosquitto.js';
import { fakeZip, publishBurst } from '../support/publish-loops.js';
import { waitFor } from '../support/wait-for.js';

const TOPIC = 'submissions';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Login {
  username: string;
  password: string;
}

/**
 * A bridge whose `accept` takes one message at a time, `perMessageMs` each: slower than a burst arrives, so the
 * broker must hold the rest. Records what it accepted and what the bridge logged.
 */
function slowBridge(url: string, login: Login, clientId: string, perMessageMs: number, keepaliveSec?: number) {
  const accepted = new Set<string>();
  const lines: string[] = [];
  let previous: Promise<unknown> = Promise.resolve();
  const bridge = startBridge({
    url,
    ...login,
    topic: TOPIC,
    clientId,
    window: 64,
    ...(keepaliveSec === undefined ? {} : { keepaliveSec }),
    logger: createLogger({}, (line) => lines.push(line)),
    accept: (_topic, bytes): Promise<Acceptance> => {
      const done = previous.then(() => sleep(perMessageMs)).then(() => accepted.add(sha256(bytes)));
      previous = done;
      return done.then(() => 'stored');
    },
  });
  return { bridge, accepted, lines };
}

describe("the bridge's MQTT session", () => {
  // Committing the burst takes seconds, many times half the 1-s keepalive: a ping sent meanwhile would find its
  // answer queued behind the messages in flight, and the connection would be given up mid-burst.
  it('takes a 3,000-message burst from a stock Mosquitto faster than it stores them, losing none', async () => {
    const broker = await startDefaultMosquitto();
    const login = { username: broker.username, password: broker.password };
    const { bridge, accepted } = slowBridge(broker.url, login, 'greengrader-bridge-burst', 2, 1);
    let closes = 0;
    bridge.client.on('close', () => (closes += 1));
    try {
      await bridge.ready;
      assert.equal(bridge.client.options.protocolVersion, 5);
      const payloads = Array.from({ length: 3000 }, fakeZip);
      await publishBurst({ url: broker.url, ...login, topic: TOPIC }, payloads, 4);
      assert.ok(accepted.size < 2000, `the burst outran the bridge (${accepted.size} accepted when it ended)`);
      await waitFor(() => accepted.size === payloads.length, {
        description: `all ${payloads.length} messages accepted`,
        timeoutMs: 90_000,
        intervalMs: 200,
      });
      assert.deepEqual(accepted, new Set(payloads.map(sha256)));
      assert.equal(closes, 0, 'one connection from the first message to the last');
    } finally {
      await bridge.stop();
      await broker.stop();
    }
  });

  it('stops retrying the messages of a closed connection: they come again on the next, stored once', async () => {
    const broker = await startDefaultMosquitto();
    const login = { username: broker.username, password: broker.password };
    let databaseUp = false;
    const failed = new Map<string, number>();
    const stored = new Map<string, number>();
    const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const bridge = startBridge({
      url: broker.url,
      ...login,
      topic: TOPIC,
      clientId: 'greengrader-bridge-superseded',
      window: 64,
      logger: createLogger({}, () => undefined),
      accept: async (_topic, bytes) => {
        await sleep(5);
        if (!databaseUp) {
          count(failed, sha256(bytes));
          throw new Error('database down');
        }
        count(stored, sha256(bytes));
        return 'stored';
      },
    });
    try {
      await bridge.ready;
      const payloads = Array.from({ length: 3 }, fakeZip);
      await publishBurst({ url: broker.url, ...login, topic: TOPIC }, payloads, 1);
      await waitFor(() => failed.size === payloads.length, { description: 'a failed attempt at each message' });
      // The connection dies while every message waits on a retry; the broker redelivers them on the next.
      bridge.client.stream.destroy();
      await waitFor(() => payloads.every((bytes) => (failed.get(sha256(bytes)) ?? 0) >= 2), {
        description: 'each message tried again',
      });
      // Past the retry delays used so far (0.5 s, then 1 s): the first connection's retries have seen their end.
      await sleep(2_500);
      databaseUp = true;
      await waitFor(() => stored.size === payloads.length, { description: 'each message stored', timeoutMs: 15_000 });
      await sleep(2_500);
      assert.deepEqual(
        payloads.map((bytes) => stored.get(sha256(bytes))),
        payloads.map(() => 1),
        'one accepted attempt per message: no retry of the closed connection also stored it',
      );
    } finally {
      await bridge.stop();
      await broker.stop();
    }
  });

  it('takes messages published at QoS 0 (no -q 1, as the original hook), a window at a time, through an outage', async () => {
    const broker = await startDefaultMosquitto();
    const login = { username: broker.username, password: broker.password };
    const window = 8;
    let databaseUp = false;
    const attempted = new Set<string>();
    const stored = new Map<string, number>();
    const lines: string[] = [];
    const bridge = startBridge({
      url: broker.url,
      ...login,
      topic: TOPIC,
      clientId: 'greengrader-bridge-qos0',
      window,
      logger: createLogger({}, (line) => lines.push(line)),
      accept: async (_topic, bytes) => {
        await sleep(5);
        attempted.add(sha256(bytes));
        if (!databaseUp) throw new Error('database down');
        stored.set(sha256(bytes), (stored.get(sha256(bytes)) ?? 0) + 1);
        return 'stored';
      },
    });
    try {
      await bridge.ready;
      const payloads = Array.from({ length: 30 }, fakeZip);
      await publishBurst({ url: broker.url, ...login, topic: TOPIC }, payloads, 1, 0);
      await waitFor(() => attempted.size >= window, { description: 'a window of QoS 0 messages taken' });
      // Past two retry delays: a bridge reading on regardless would have taken (and held) all 30 by now.
      await sleep(2_000);
      assert.equal(attempted.size, window, 'no more QoS 0 messages held than the window while none can be stored');
      databaseUp = true;
      await waitFor(() => stored.size === payloads.length, { description: 'every message stored', timeoutMs: 30_000 });
      assert.deepEqual(
        payloads.map((bytes) => stored.get(sha256(bytes))),
        payloads.map(() => 1),
      );
      assert.ok(
        lines.some((line) => line.includes('arrived at QoS 0')),
        'the bridge warns that its publishers use QoS 0',
      );
    } finally {
      await bridge.stop();
      await broker.stop();
    }
  });

  it('keeps trying a broker that refuses its login, and receives once the broker accepts it', async () => {
    const broker = await startDefaultMosquitto();
    // A login the broker does not know yet: an operator who started the bridge before reloading the broker.
    const login = { username: 'bridge-late', password: 'late-password' };
    const { bridge, accepted, lines } = slowBridge(broker.url, login, 'greengrader-bridge-refused', 0);
    try {
      await waitFor(() => lines.filter((line) => line.includes('broker connection error')).length >= 2, {
        description: 'the broker refusing the login twice',
      });
      await broker.addLogin(login.username, login.password);
      await bridge.ready;
      const payloads = Array.from({ length: 5 }, fakeZip);
      await publishBurst(
        { url: broker.url, username: broker.username, password: broker.password, topic: TOPIC },
        payloads,
        1,
      );
      await waitFor(() => accepted.size === payloads.length, { description: 'the 5 messages accepted' });
    } finally {
      await bridge.stop();
      await broker.stop();
    }
  });

  it('takes a retained message once, not again each time the bridge restarts', async () => {
    const broker = await startDefaultMosquitto();
    const login = { username: broker.username, password: broker.password };
    const deliveries: string[] = [];
    // The same session each time, as `greengrader bridge` restarted (a deploy, a crash) subscribes again.
    const startOne = () =>
      startBridge({
        url: broker.url,
        ...login,
        topic: TOPIC,
        clientId: 'greengrader-bridge-retained',
        window: 8,
        logger: createLogger({}, () => undefined),
        accept: (_topic, bytes) => {
          deliveries.push(sha256(bytes));
          return Promise.resolve('rejected');
        },
      });
    let bridge = startOne();
    try {
      await bridge.ready;
      const retained = fakeZip();
      const publisher = await mqtt.connectAsync(broker.url, { ...login, clientId: 'retained-publisher' });
      await publisher.publishAsync(TOPIC, retained, { qos: 1, retain: true });
      await publisher.endAsync();
      await waitFor(() => deliveries.length === 1, { description: 'the retained message delivered' });
      for (let restart = 1; restart <= 2; restart++) {
        await bridge.stop();
        bridge = startOne();
        await bridge.ready;
        // The broker answers a subscription that sends retained messages with them at once.
        await sleep(500);
      }
      assert.deepEqual(deliveries, [sha256(retained)]);
    } finally {
      await bridge.stop();
      await broker.stop();
    }
  });

  it('speaks MQTT 3.1.1 to a broker that refuses MQTT 5 (the embedded one), and receives there', async () => {
    const accounts = testBrokerAccounts({ topic: TOPIC });
    const broker = await startEmbeddedBroker({ accounts, maxPayloadBytes: 1024 * 1024 });
    const { bridge, accepted, lines } = slowBridge(broker.url, accounts.bridge, accounts.bridgeClientId, 0);
    try {
      await bridge.ready;
      assert.equal(bridge.client.options.protocolVersion, 4);
      assert.ok(lines.some((line) => line.includes('the broker refused MQTT 5')));
      const payloads = Array.from({ length: 20 }, fakeZip);
      await publishBurst({ url: broker.url, ...accounts.publisher, topic: TOPIC }, payloads, 2);
      await waitFor(() => accepted.size === payloads.length, { description: 'the 20 messages accepted' });
    } finally {
      await bridge.stop();
      await broker.stop();
    }
  });
});
