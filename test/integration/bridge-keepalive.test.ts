import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inArray } from 'drizzle-orm';
import mqtt from 'mqtt';
import { createPayloadAcceptor } from '../../src/bridge/accept-payload.js';
import { startBridge } from '../../src/bridge/mqtt-bridge.js';
import { createPayloadBatcher } from '../../src/bridge/payload-batcher.js';
import { startBridgeProcess } from '../../src/app/bridge-process.js';
import { connectDatabase } from '../../src/db/client.js';
import { rawPayloads } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { freePort } from '../../src/services/free-port.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { fakeZip } from '../support/publish-loops.js';
import { waitFor } from '../support/wait-for.js';
import { emptyKeyring } from '../../src/submission/sealed-bytes.js';

describe('a bridge whose database is down', () => {
  let stack: GradingStack | undefined;
  after(async () => {
    await stack?.stop();
  });

  // With a window smaller than the messages held, mqtt.js stops reading: the PINGRESPs wait behind the rest.
  for (const [label, window] of [
    ['fewer messages than its window', undefined],
    ['more messages than its window', 4],
  ] as const)
    it(`keeps its broker connection alive while messages wait on retries (${label}), and loses none of them`, async () => {
      stack ??= await startGradingStack({ bridge: false, nodes: 0 });
      const { config, database } = stack;
      // PostgreSQL "stopped": nothing listens where this pool connects, so every insert fails and is retried.
      const down = connectDatabase(`postgres://postgres@127.0.0.1:${await freePort()}/gone`, { maxConnections: 2 });
      const batcher = createPayloadBatcher({ db: down.db, maxRows: config.BRIDGE_WINDOW, flushAfterMs: 3 });
      const accept = createPayloadAcceptor({
        db: down.db,
        batcher,
        maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
        receiverIp: null,
        logger: silentLogger,
        keyring: emptyKeyring,
        quarantineRetentionDays: config.QUARANTINE_RETENTION_DAYS,
      });
      const bridge = startBridge({
        url: config.MQTT_URL,
        username: config.MQTT_USERNAME,
        password: config.MQTT_PASSWORD,
        topic: config.MQTT_TOPIC,
        clientId: config.MQTT_CLIENT_ID,
        accept,
        window: window ?? config.BRIDGE_WINDOW,
        logger: silentLogger,
        // mqtt.js gives up on a connection 1.5 keepalives after an unanswered ping.
        keepaliveSec: 1,
      });
      let closes = 0;
      bridge.client.on('close', () => (closes += 1));
      const payloads = Array.from({ length: 30 }, fakeZip);
      try {
        await bridge.ready;
        const publisher = await mqtt.connectAsync(config.MQTT_URL, {
          username: config.MQTT_PUBLISHER_USERNAME,
          password: config.MQTT_PUBLISHER_PASSWORD,
          clientId: `keepalive-${randomUUID().slice(0, 8)}`,
        });
        await Promise.all(payloads.map((bytes) => publisher.publishAsync(config.MQTT_TOPIC, bytes, { qos: 1 })));
        await publisher.endAsync();
        // Real time has to pass for keepalives: five keepalive periods, each needing a PINGRESP read.
        await sleep(5_000);
        assert.equal(closes, 0, 'the connection never dropped');
        assert.ok(bridge.client.connected);
      } finally {
        await bridge.stop();
        await down.close();
      }

      // Nothing was acknowledged: the same session, now with a database, receives and stores all 30.
      const working = await startBridgeProcess(config, silentLogger, {
        shared: { db: database.db, temporal: stack.temporal },
      });
      try {
        const shas = payloads.map((bytes) => createHash('sha256').update(bytes).digest('hex'));
        const storedCount = async () =>
          (
            await database.db
              .select({ sha256: rawPayloads.sha256 })
              .from(rawPayloads)
              .where(inArray(rawPayloads.sha256, shas))
          ).length;
        await waitFor(async () => (await storedCount()) === 30, {
          timeoutMs: 30_000,
          description: 'the 30 held messages stored',
        });
      } finally {
        await working.stop();
      }
    });
});
