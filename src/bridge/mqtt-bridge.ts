import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
}

export interface RunningBridge {
  client: MqttClient;
  /** Resolves once the first subscription is in place. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** How long stop() waits for QoS 0 messages being committed (see handleAtMostOnce). */
const STOP_WAIT_MS = 10_000;
/** How long stop() waits for the broker to close the connection after DISCONNECT before closing it itself. */
const STOP_CLOSE_MS = 2_000;

/** Backoff while the database is unreachable: the message stays unacknowledged meanwhile. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10000];

/** An MQTT PINGREQ: fixed header 0xC0, remaining length 0. */
const PINGREQ = Buffer.from([0xc0, 0x00]);

/** Passed to mqtt.js's message callback so it skips its own PUBACK: the bridge sends them, in order. */
class AckedByBridge extends Error {}

/**
 * MQTT 5's largest Receive Maximum. A broker sends a 3.1.1 subscriber only `max_inflight_messages` (Mosquitto: 20)
 * unacknowledged messages and queues the rest up to `max_queued_messages` (1000), dropping beyond it, so a burst
 * faster than the bridge commits was lost at a stock broker. To an MQTT 5 subscriber it sends up to the Receive
 * Maximum the subscriber announced: the whole burst is in flight, held by the broker (TCP backpressure keeps it
 * there, since mqtt.js reads a packet only when the window admits it), and no queue limit applies.
 */
const RECEIVE_MAXIMUM = 65_535;
/** MQTT 5's "never expires": the session outlives any disconnect, as a 3.1.1 persistent session does. */
const SESSION_NEVER_EXPIRES = 0xffff_ffff;
/** CONNACK codes of a broker refusing MQTT 5: 3.1.1's "unacceptable protocol version", 5's "unsupported". */
const PROTOCOL_REFUSED = new Set([1, 132]);

/**
 * Subscribes with QoS 1 on a persistent session (fixed client id, clean: false), so messages
 * published while the bridge is down wait at the broker. Each message is acknowledged only after
 * it is committed in the database; up to `window` messages are handled at once, acknowledged in order.
 */
export function startBridge(options: BridgeOptions): RunningBridge {
  const log = options.logger.child({ component: 'bridge' });
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const client = mqtt.connect(options.url, {
    ...options.tls,
    clientId: options.clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES, receiveMaximum: RECEIVE_MAXIMUM },
    username: options.username,
    password: options.password,
    reconnectPeriod: 1000,
    // mqtt.js gives up for good on a refused CONNACK (a login refused while the broker reloads its passwords, "server
    // unavailable", a quota): the bridge would stay up connected to nothing while the broker's queue fills.
    reconnectOnConnackError: true,
    keepalive: options.keepaliveSec ?? 60,
    connectTimeout: 10_000,
  });

  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const acks = createOrderedAcks(options.window, (messageId) => {
    // A PUBACK: fixed header 0x40, remaining length 2, the packet id (MQTT 5 omits a success reason code so too).
    client.stream.write(Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]));
    // A packet sent keeps the session alive as a ping would, and mqtt.js counts only those it writes itself. Without
    // this, a ping sent mid-burst would wait for its answer behind every message still in flight (up to
    // RECEIVE_MAXIMUM), and a burst committing for longer than half a keepalive would end in a reconnect.
    client.reschedulePing();
  });
  // While a message waits for room in the window, mqtt.js reads nothing more: the broker's PINGRESPs wait unread
  // behind what it sent, and mqtt.js would give up on the connection 1.5 keepalives in (a database outage with a
  // window's worth of messages held reconnected every 90 s). Meanwhile the bridge pings the broker itself, so the
  // broker sees a live client, and tells mqtt.js the connection lives. A broker that closed or reset it shows as a
  // write error; one lost silently is noticed by TCP's retransmission timeout (minutes), or 1.5 keepalives after
  // the window frees, when mqtt.js's own pings resume: either way its messages come again on the next connection.
  let held = 0;
  let heldPings: ReturnType<typeof setInterval> | undefined;
  const holdStarted = () => {
    held += 1;
    if (stopping || !(client.keepalive > 0)) return;
    // The broker's Server Keep Alive when it set one (mqtt.js times out on that), else ours.
    heldPings ??= setInterval(
      () => {
        if (!client.connected) return;
        client.stream.write(PINGREQ);
        client.reschedulePing();
      },
      (client.keepalive * 1000) / 2,
    );
    // A stopped bridge's messages may stay waiting for good (mqtt.js drops its stream): never keep the process up.
    heldPings.unref();
  };
  const holdEnded = () => {
    held -= 1;
    if (held > 0 || heldPings === undefined) return;
    clearInterval(heldPings);
    heldPings = undefined;
  };

  /** Connections closed so far: a message is retried only while the connection it came on is open. */
  let closed = 0;
  // Unacknowledged messages of a lost connection come again on the next, whose PUBACKs follow its own order.
  client.on('close', () => {
    closed += 1;
    acks.reset();
    // A held QoS 0 callback belongs to the closed connection: mqtt.js dropped what it had read past it, unread.
    if (atMostOnceWaiting.length > 0) {
      for (let i = 0; i < atMostOnceWaiting.length; i++) holdEnded();
      atMostOnceWaiting.length = 0;
      log.error('the connection closed while QoS 0 messages waited for the window: any the broker had sent are lost', {
        inFlight: atMostOnceInFlight.size,
      });
    }
  });

  client.on('connect', (connack) => {
    log.info('connected to broker', { url: options.url, sessionPresent: connack.sessionPresent });
    // Retained messages only with a new subscription (MQTT 5; a 3.1.1 broker ignores it): a restarted bridge
    // subscribes its session again, and a retained message came again each time (a rejected one stored once more).
    client.subscribe(options.topic, { qos: 1, rh: 1 }, (error) => {
      if (error) log.error('subscribe failed', { error });
      else {
        log.info('subscribed', { topic: options.topic });
        markReady();
      }
    });
  });
  client.on('error', (error: Error & { code?: unknown }) => {
    if (client.options.protocolVersion === 5 && typeof error.code === 'number' && PROTOCOL_REFUSED.has(error.code)) {
      // A 3.1.1-only broker (aedes, `up`'s embedded one): speak 3.1.1 from the next attempt on. The broker watch
      // still reports any message such a broker drops.
      client.options.protocolVersion = 4;
      delete client.options.properties;
      // mqtt.js tries again after reconnectPeriod (reconnectOnConnackError), with these options.
      log.info('the broker refused MQTT 5; the bridge speaks MQTT 3.1.1 to it', { url: options.url });
      return;
    }
    log.error('broker connection error', { error });
  });
  client.on('offline', () => log.warn('broker offline; reconnecting'));

  // mqtt.js reads the next packet only once this callback is called, and sends the PUBACK in it. Waiting
  // there for the database would handle one message at a time and leave PINGRESPs unread; so the callback
  // is called as soon as the message has a slot in the window, with an error that skips mqtt.js's PUBACK
  // (mqtt.js 5: an error there only skips the PUBACK), and the bridge writes the PUBACKs itself, in order.
  client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void) => {
    const bytes = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (packet.qos !== 1 || packet.messageId === undefined) {
      handleAtMostOnce(packet.topic, bytes, callback);
      return;
    }
    const connection = closed;
    const waits = acks.size >= options.window;
    if (waits) holdStarted();
    acks.admit(packet.messageId).then(
      (slot) => {
        if (waits) holdEnded();
        callback(new AckedByBridge());
        handleWithRetry(packet.topic, bytes, () => closed !== connection).then(
          () => slot.settle(),
          // Only while stopping or after its connection closed: unacknowledged, it comes again on the next one.
          () => undefined,
        );
      },
      (error: Error) => {
        if (waits) holdEnded();
        callback(error);
      },
    );
  };

  const atMostOnceInFlight = new Set<Promise<void>>();
  const atMostOnceWaiting: (() => void)[] = [];
  let atMostOnceWarned = false;
  /**
   * A message published at QoS 0 (the original hook's line had no `-q 1`) reaches the bridge at QoS 0: there is no
   * PUBACK to withhold and the broker never sends it again, so it is retried until stored whatever happens to the
   * connection. The window bounds these too: past it mqtt.js reads nothing more until one is stored, so memory stays
   * within window × MAX_PAYLOAD_BYTES. stop() waits a while for those in hand; what it cannot wait for is logged as
   * lost, and so is what a connection closed while the window was full may have dropped unread.
   */
  function handleAtMostOnce(topic: string, bytes: Buffer, callback: () => void): void {
    if (!atMostOnceWarned) {
      atMostOnceWarned = true;
      log.warn(
        'a message arrived at QoS 0: the broker may drop such messages and never resends them; publish with -q 1',
        {
          topic,
        },
      );
    }
    const handled: Promise<void> = handleWithRetry(topic, bytes)
      .then(
        () => undefined,
        (error: unknown) =>
          log.error('a QoS 0 message was not stored before the bridge stopped; the broker will not send it again', {
            topic,
            sha256: sha256Of(bytes),
            bytes: bytes.length,
            error,
          }),
      )
      .finally(() => {
        atMostOnceInFlight.delete(handled);
        atMostOnceWaiting.shift()?.();
      });
    atMostOnceInFlight.add(handled);
    if (atMostOnceInFlight.size < options.window) callback();
    else {
      holdStarted();
      atMostOnceWaiting.push(() => {
        holdEnded();
        callback();
      });
    }
  }

  /**
   * Accepts the message, retrying while the database fails. Gives up on a message whose connection closed
   * (`superseded`): the broker sends it again on the next, and retrying it meanwhile would hold its bytes beside
   * the new connection's window, so a bridge reconnecting through a long outage would grow without bound.
   */
  async function handleWithRetry(topic: string, bytes: Buffer, superseded = () => false): Promise<Acceptance> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await options.accept(topic, bytes);
      } catch (error) {
        if (stopping || superseded()) throw error instanceof Error ? error : new Error(String(error));
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)] ?? 10000;
        log.error('could not accept message; it stays unacknowledged and is retried', {
          sha256: sha256Of(bytes),
          error,
          attempt,
          delay,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (stopping || superseded()) throw error instanceof Error ? error : new Error(String(error));
      }
    }
  }

  return {
    client,
    ready,
    // Once: the process may stop a bridge that already stopped itself (its session taken by another bridge).
    stop: () => (stopped ??= stopOnce()),
  };

  async function stopOnce(): Promise<void> {
    stopping = true;
    // QoS 0 messages in hand are stored by no one else: a commit under way is let finish (a retry is not).
    await Promise.race([Promise.allSettled([...atMostOnceInFlight]), sleep(STOP_WAIT_MS, undefined, { ref: false })]);
    // With a message waiting for the window mqtt.js reads nothing, so it would never see the broker close the
    // connection after DISCONNECT: close it outright (also if one comes while stopping, after a grace). What was
    // not acknowledged comes again on the next session.
    clearInterval(heldPings);
    heldPings = undefined;
    const ended = client.endAsync(held > 0);
    const outright = setTimeout(() => client.stream.destroy(), STOP_CLOSE_MS);
    try {
      await ended;
    } finally {
      clearTimeout(outright);
    }
  }
}

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
