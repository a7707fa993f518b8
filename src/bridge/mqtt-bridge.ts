import { createHash } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../observability/logger.js';
import type { Acceptance } from './accept-payload.js';
import { createOrderedAcks } from './ordered-acks.js';

export interface BridgeOptions {
  url: string;
  /** A private CA for an `mqtts://` url (MQTT_CA_FILE). */
  tls?: { ca?: Buffer };
  username: string;
  password: string;
  topic: string;
  clientId: string;
  accept: (topic: string, bytes: Buffer) => Promise<Acceptance>;
  logger: Logger;
  /** Messages handled at once; see createOrderedAcks. */
  window: number;
  /** Seconds between keepalive pings; mqtt.js's 60 by default (tests shorten it). */
  keepaliveSec?: number;
  /** Called after each handled message; for counters and tests. */
  onHandled?: (acceptance: Acceptance, topic: string) => void;
}

export interface RunningBridge {
  client: MqttClient;
  /** Resolves once the first subscription is in place. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Backoff while the database is unreachable: the message stays unacknowledged meanwhile. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10000];

/** Passed to mqtt.js's message callback so it skips its own PUBACK: the bridge sends them, in order. */
class AckedByBridge extends Error {}

/**
 * Subscribes with QoS 1 on a persistent session (fixed client id, clean: false), so messages
 * published while the bridge is down wait at the broker. Each message is acknowledged only after
 * it is committed in the database; up to `window` messages are handled at once, acknowledged in order.
 */
export function startBridge(options: BridgeOptions): RunningBridge {
  const log = options.logger.child({ component: 'bridge' });
  let stopping = false;
  const client = mqtt.connect(options.url, {
    ...options.tls,
    clientId: options.clientId,
    clean: false,
    // The bridge writes its PUBACKs itself, in MQTT 3.1.1's format.
    protocolVersion: 4,
    username: options.username,
    password: options.password,
    reconnectPeriod: 1000,
    keepalive: options.keepaliveSec ?? 60,
    connectTimeout: 10_000,
  });

  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const acks = createOrderedAcks(options.window, (messageId) => {
    // A PUBACK for MQTT 3.1.1: fixed header 0x40, remaining length 2, the packet id.
    client.stream.write(Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]));
  });
  // Unacknowledged messages of a lost connection come again on the next; their old ids mean nothing there.
  client.on('close', () => acks.reset());

  client.on('connect', (connack) => {
    log.info('connected to broker', { url: options.url, sessionPresent: connack.sessionPresent });
    client.subscribe(options.topic, { qos: 1 }, (error) => {
      if (error) log.error('subscribe failed', { error });
      else {
        log.info('subscribed', { topic: options.topic });
        markReady();
      }
    });
  });
  client.on('error', (error) => log.error('broker connection error', { error }));
  client.on('offline', () => log.warn('broker offline; reconnecting'));

  // mqtt.js reads the next packet only once this callback is called, and sends the PUBACK in it. Waiting
  // there for the database would handle one message at a time and leave PINGRESPs unread; so the callback
  // is called as soon as the message has a slot in the window, with an error that skips mqtt.js's PUBACK
  // (mqtt.js 5: an error there only skips the PUBACK), and the bridge writes the PUBACKs itself, in order.
  client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void) => {
    const bytes = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (packet.qos !== 1 || packet.messageId === undefined) {
      // Not ours to acknowledge (QoS 0 has no PUBACK; the bridge subscribes at QoS 1).
      void handleWithRetry(packet.topic, bytes).catch(() => undefined);
      callback();
      return;
    }
    acks.admit(packet.messageId).then(
      (slot) => {
        callback(new AckedByBridge());
        handleWithRetry(packet.topic, bytes).then(
          (acceptance) => {
            options.onHandled?.(acceptance, packet.topic);
            slot.settle();
          },
          // Only while stopping: the message stays unacknowledged and the broker redelivers it.
          () => undefined,
        );
      },
      (error: Error) => callback(error),
    );
  };

  async function handleWithRetry(topic: string, bytes: Buffer): Promise<Acceptance> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await options.accept(topic, bytes);
      } catch (error) {
        if (stopping) throw error instanceof Error ? error : new Error(String(error));
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)] ?? 10000;
        log.error('could not accept message; it stays unacknowledged and is retried', {
          sha256: createHash('sha256').update(bytes).digest('hex'),
          error,
          attempt,
          delay,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return {
    client,
    ready,
    async stop() {
      stopping = true;
      await client.endAsync();
    },
  };
}
