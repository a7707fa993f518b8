import { createHash } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../observability/logger.js';
import type { Acceptance } from './accept-payload.js';

export interface BridgeOptions {
  url: string;
  username: string;
  password: string;
  topic: string;
  clientId: string;
  accept: (topic: string, bytes: Buffer) => Promise<Acceptance>;
  logger: Logger;
  /** Called after each handled message; for counters and tests. */
  onHandled?: (acceptance: Acceptance, topic: string) => void;
}

export interface RunningBridge {
  client: MqttClient;
  /** Resolves once the first subscription is in place. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Backoff while the database or Temporal is unreachable: the message stays unacknowledged meanwhile. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10000];

/**
 * Subscribes with QoS 1 on a persistent session (fixed client id, clean: false), so messages
 * published while the bridge is down wait at the broker. Each message is acknowledged only after
 * it is stored and its workflow started; messages are handled one at a time, in order.
 */
export function startBridge(options: BridgeOptions): RunningBridge {
  const log = options.logger.child({ component: 'bridge' });
  let stopping = false;
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    clean: false,
    username: options.username,
    password: options.password,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });

  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  client.on('connect', (connack) => {
    log.info('connected to broker', { url: options.url, sessionPresent: connack.sessionPresent });
    client.subscribe(options.topic, { qos: 1 }, (error) => {
      if (error) log.error('subscribe failed', { error });
      else markReady();
    });
  });
  client.on('error', (error) => log.error('broker connection error', { error }));
  client.on('offline', () => log.warn('broker offline; reconnecting'));

  // mqtt.js sends the PUBACK only when this callback is called: our hook for "ack after stored".
  client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void) => {
    const bytes = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    handleWithRetry(packet.topic, bytes).then(
      (acceptance) => {
        options.onHandled?.(acceptance, packet.topic);
        callback();
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
