// The mosquitto.conf and ACL file the launcher writes; deploy/mosquitto/ ships the same settings, explained.
import { BRIDGE_SYS_TOPICS, type BrokerAccounts } from '../shared/broker-accounts.js';

/**
 * Messages Mosquitto queues per offline persistent session (its default, 1000, drops a deadline burst while
 * the bridge restarts). `max_queued_bytes` below caps what they may weigh.
 */
const MAX_QUEUED_MESSAGES = 10_000;
/** 2 GiB: 10,000 zips of 200 KB each, or fewer large ones; the broker holds its queue in memory. */
const MAX_QUEUED_BYTES = 2 * 1024 ** 3;
/**
 * Unacknowledged messages in flight to one 3.1.1 client: the bridge's default window (BRIDGE_WINDOW), not 20. The
 * bridge on MQTT 5 announces its own Receive Maximum, which the broker uses instead.
 */
const MAX_INFLIGHT_MESSAGES = 64;
/**
 * Bytes in flight to one client: an MQTT 5 bridge announces a Receive Maximum of 65,535, so without this only the
 * burst's size would bound what the broker holds in flight for it. Past it, messages queue (the limits above).
 */
const MAX_INFLIGHT_BYTES = 2 * 1024 ** 3;
/** Room for a topic filter's unknown topic (longer than any GreenGrader uses) in the packet size limit. */
const WILDCARD_TOPIC_BYTES = 256;

/**
 * Mosquitto's `max_packet_size` that refuses exactly the QoS 1 publishes on `topic` whose payload exceeds
 * `maxPayloadBytes`: it compares the packet minus its length field (type byte, topic length, topic, packet id,
 * payload), as measured on 2.0.11. MQTT 5 properties count too, so a v5 publisher's limit is a few bytes lower.
 */
function maxPacketSize(topic: string, maxPayloadBytes: number): number {
  const topicBytes = /[+#]/.test(topic) ? WILDCARD_TOPIC_BYTES : Buffer.byteLength(topic);
  return maxPayloadBytes + 1 + 2 + topicBytes + 2;
}

export interface MosquittoConfigOptions {
  /** `listener …` lines, each with its own TLS lines after it. */
  listeners: string[];
  passwordFile: string;
  aclFile: string;
  /** deploy/mosquitto/client-id-guard: refuses `clientId` to every login but `username`. */
  clientIdGuard: { plugin: string; clientId: string; username: string };
  topic: string;
  maxPayloadBytes: number;
  maxQueuedMessages?: number;
  sysIntervalSec?: number;
  /** Keep sessions and queued messages across restarts, saved every second, in this directory. */
  persistenceDir?: string;
  runAsRoot: boolean;
}

export function renderConfig(options: MosquittoConfigOptions): string {
  const lines = [
    '# Written by src/services/mosquitto-config.ts.',
    // Authentication and ACLs apply to every listener alike.
    'per_listener_settings false',
    ...options.listeners,
    'allow_anonymous false',
    `password_file ${options.passwordFile}`,
    `acl_file ${options.aclFile}`,
    // Mosquitto 2.0 cannot bind a client id to a login; this plugin refuses the bridge's id to the other logins
    // and defers everything else to password_file (checked on 2.0.11: a wrong password is still refused).
    `plugin ${options.clientIdGuard.plugin}`,
    `plugin_opt_client_id ${options.clientIdGuard.clientId}`,
    `plugin_opt_username ${options.clientIdGuard.username}`,
    `max_queued_messages ${options.maxQueuedMessages ?? MAX_QUEUED_MESSAGES}`,
    `max_queued_bytes ${MAX_QUEUED_BYTES}`,
    `max_inflight_messages ${MAX_INFLIGHT_MESSAGES}`,
    `max_inflight_bytes ${MAX_INFLIGHT_BYTES}`,
    // Not message_size_limit: it acknowledges an oversized QoS 1 publish and drops it silently (MQTT 3.1.1).
    // An oversized packet closes the publisher's connection instead, which mosquitto_pub reports as an error.
    `max_packet_size ${maxPacketSize(options.topic, options.maxPayloadBytes)}`,
    `sys_interval ${options.sysIntervalSec ?? 10}`,
    'log_dest stderr',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  ];
  if (options.persistenceDir !== undefined) {
    lines.push(
      'persistence true',
      `persistence_location ${options.persistenceDir}/`,
      // Seconds between saves: bounds what a crash (kill) loses without rewriting the database on every message.
      'autosave_interval 1',
    );
  }
  if (options.runAsRoot) lines.push('user root');
  return `${lines.join('\n')}\n`;
}

/** Publisher: write the topic, nothing else. Bridge: read the topic and the $SYS topics it watches. */
export function renderAcl(accounts: BrokerAccounts): string {
  return [
    '# Written by src/services/mosquitto-config.ts. Anything not granted here is denied.',
    `user ${accounts.publisher.username}`,
    `topic write ${accounts.topic}`,
    '',
    `user ${accounts.bridge.username}`,
    `topic read ${accounts.topic}`,
    ...BRIDGE_SYS_TOPICS.map((topic) => `topic read ${topic}`),
    '',
  ].join('\n');
}
