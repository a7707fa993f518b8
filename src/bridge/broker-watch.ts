import mqtt, { type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../observability/logger.js';
import { metrics as processMetrics, type GreenGraderMetrics } from '../observability/metrics.js';
import { BRIDGE_SYS_TOPICS, topicMatches, type BrokerLogin } from '../shared/broker-accounts.js';

export interface BrokerWatchOptions {
  url: string;
  /** The bridge's login, which may read BRIDGE_SYS_TOPICS. */
  login: BrokerLogin;
  /** Not the bridge's: this connection has a clean session of its own and must not take the bridge's over. */
  clientId: string;
  tls: { ca?: Buffer };
  /** The bridge's connection, whose redelivered messages on `topic` are counted. */
  bridgeClient: MqttClient;
  topic: string;
  logger: Logger;
  /** How long to wait for `$SYS/broker/version` before saying the broker's limits cannot be checked. */
  versionTimeoutMs?: number;
  metrics?: GreenGraderMetrics;
}

export interface BrokerWatch {
  stop(): Promise<void>;
}

const VERSION_TOPIC = BRIDGE_SYS_TOPICS[0];
const DROPPED_TOPIC = BRIDGE_SYS_TOPICS[1];
const LIMITS_HELP = "see the README's 'Broker limits' for the lines to add to mosquitto.conf";

/**
 * Watches what the broker tells about losing messages, over MQTT alone. Mosquitto does not publish its queue
 * limits, but it announces itself on `$SYS/broker/version` and counts every message it dropped (a full queue
 * of an offline client, `max_queued_messages`/`max_queued_bytes`) on `$SYS/broker/publish/messages/dropped`:
 * a count above zero when the bridge starts means limits too small for a backlog, typically the defaults; any
 * growth later is logged as a warning and exported as a metric. Redeliveries (DUP flag) on the bridge's own
 * connection are the messages that arrive out of publication order, after newer ones; they are counted too.
 */
export function startBrokerWatch(options: BrokerWatchOptions): BrokerWatch {
  const log = options.logger.child({ component: 'broker-watch' });
  const metrics = options.metrics ?? processMetrics;
  let version: string | undefined;
  let dropped: number | undefined;

  const client = mqtt.connect(options.url, {
    ...options.tls,
    clientId: options.clientId,
    clean: true,
    username: options.login.username,
    password: options.login.password,
    reconnectPeriod: 5_000,
    connectTimeout: 10_000,
  });
  client.on('connect', () => {
    client.subscribe([...BRIDGE_SYS_TOPICS], { qos: 0 }, (error, granted) => {
      const refused = granted?.filter((grant) => grant.qos === 128).map((grant) => grant.topic) ?? [];
      if (error !== undefined && error !== null) log.warn('cannot watch the broker', { error });
      else if (refused.length > 0) log.warn('the broker refused the $SYS topics the bridge watches', { refused });
    });
  });
  client.on('error', (error) => log.warn('broker watch connection error', { error }));
  client.on('message', (topic, payload) => {
    const text = payload.toString('utf8').trim();
    if (topic === VERSION_TOPIC && version === undefined) {
      version = text;
      log.info('broker identified', { version, droppedMessages: DROPPED_TOPIC });
    } else if (topic === DROPPED_TOPIC) {
      const count = Number(text);
      if (!Number.isSafeInteger(count)) return;
      metrics.brokerMessagesDropped.set(count);
      if (dropped === undefined && count > 0) {
        log.warn(
          `the broker has dropped ${count} messages since it started: its queue limits look like Mosquitto's defaults (max_queued_messages 1000), too small for a backlog of submissions; ${LIMITS_HELP}`,
          { dropped: count, version },
        );
      } else if (dropped !== undefined && count > dropped) {
        log.warn(`the broker dropped ${count - dropped} more messages (${count} since it started); ${LIMITS_HELP}`, {
          dropped: count,
          version,
        });
      }
      dropped = count;
    }
  });

  const versionTimer = setTimeout(() => {
    if (version !== undefined) return;
    log.info(
      `the broker publishes no ${VERSION_TOPIC} (not Mosquitto, $SYS turned off, or the ACL hides it): its queue limits cannot be checked; ${LIMITS_HELP}`,
    );
  }, options.versionTimeoutMs ?? 15_000);
  versionTimer.unref();

  let redeliveredThisConnection = 0;
  const onPacket = (packet: Packet): void => {
    if (packet.cmd !== 'publish' || !packet.dup || !topicMatches(options.topic, packet.topic)) return;
    metrics.messagesRedelivered.inc();
    // One line per connection: a reconnect redelivers every unacknowledged message at once.
    if (redeliveredThisConnection++ === 0) {
      log.warn(
        'the broker is redelivering messages sent before the connection was lost: they arrive after newer ones, out of publication order (each zip is still stored once, by its hash)',
      );
    }
  };
  const onConnect = (): void => {
    redeliveredThisConnection = 0;
  };
  options.bridgeClient.on('packetreceive', onPacket);
  options.bridgeClient.on('connect', onConnect);

  return {
    async stop() {
      clearTimeout(versionTimer);
      options.bridgeClient.off('packetreceive', onPacket);
      options.bridgeClient.off('connect', onConnect);
      await client.endAsync();
    },
  };
}
