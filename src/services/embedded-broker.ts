import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { BrokerAccounts } from '../shared/broker-accounts.js';
import { brokerAccessRules } from './embedded-broker-access.js';
import { freePort } from './free-port.js';
import { once } from './once.js';
import type { RunningService } from './running-service.js';
import { ServiceStartError } from './service-start-error.js';

export interface EmbeddedBrokerOptions {
  /** Interface to listen on; default 127.0.0.1 (0.0.0.0 to let Gradescope's hosts reach it). */
  host?: string;
  /** TCP port; a free one when omitted. */
  port?: number;
  /** The publisher's and the bridge's logins, the topic they are confined to, the bridge's client id. */
  accounts: BrokerAccounts;
  /** Publishes with a larger payload are refused (the connection is closed); MAX_PAYLOAD_BYTES. */
  maxPayloadBytes: number;
  /** A second, TLS-only listener on `host` with this PEM certificate and key. */
  tls?: { port?: number; certFile: string; keyFile: string };
}

export interface RunningEmbeddedBroker extends RunningService {
  /** `mqtt://HOST:PORT` */
  url: string;
  host: string;
  port: number;
  accounts: BrokerAccounts;
  /** `mqtts://HOST:PORT` when a TLS listener was asked for. */
  tlsUrl?: string;
  /** Stops accepting connections; connected clients carry on until `stop`. */
  refuseNewConnections(): void;
  /**
   * Waits until `clientId` has acknowledged every QoS ≥ 1 message published on `topic` so far (the bridge
   * acknowledges only once a message is stored), or `timeoutMs` passes. Returns how many are still unacknowledged.
   */
  waitUntilAcknowledged(topic: string, clientId: string, timeoutMs: number): Promise<number>;
}

/** What `$SYS/broker/version` says: not Mosquitto, so the bridge knows Mosquitto's queue defaults do not apply. */
const EMBEDDED_BROKER_VERSION = 'greengrader embedded broker (aedes, in-memory queues without a count limit)';

/**
 * An MQTT 3.1.1 broker in this process (aedes) with the publisher's and the bridge's logins, each allowed only
 * its side of the submissions topic (see embedded-broker-access.ts). Sessions, subscriptions and queued QoS 1
 * messages live in memory, with no count limit (aedes' in-memory persistence has none): a persistent session
 * (clean: false) keeps any backlog while its client is away, bounded by this process's memory, but not across
 * a restart of this process. Use Mosquitto (MQTT_URL) where queued messages must survive a broker restart.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<RunningEmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const tlsPort = options.tls === undefined ? undefined : (options.tls.port ?? (await freePort()));
  const tlsFiles =
    options.tls === undefined
      ? undefined
      : { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) };
  const broker = await Aedes.createBroker({
    // MQTT 3.1.1 allows longer ids than 3.1's 23 characters; test bridges use `greengrader-bridge-<suffix>`.
    maxClientsIdLength: 256,
    // A subscriber that stops reading is cut off rather than stalling delivery to everyone else.
    drainTimeout: 30_000,
    ...brokerAccessRules(options.accounts, options.maxPayloadBytes),
  });
  // Mosquitto announces itself here; the bridge reads it to tell which broker, and so which limits, it has.
  broker.publish(
    {
      cmd: 'publish',
      topic: '$SYS/broker/version',
      payload: Buffer.from(EMBEDDED_BROKER_VERSION),
      qos: 0,
      retain: true,
      dup: false,
    },
    () => undefined,
  );

  // Delivery bookkeeping for waitUntilAcknowledged: QoS ≥ 1 publishes per topic, acknowledgements per client.
  const published = new Map<string, number>();
  const acknowledged = new Map<string, number>();
  broker.on('publish', (packet, client) => {
    if (client !== null && packet.qos > 0) published.set(packet.topic, (published.get(packet.topic) ?? 0) + 1);
  });
  broker.on('ack', (given, client) => {
    // aedes 1.x emits no packet for a PUBACK whose message it no longer holds, despite its types.
    const packet = given as typeof given | undefined;
    if (packet?.cmd !== 'publish') return;
    const key = `${client.id}\0${packet.topic}`;
    acknowledged.set(key, (acknowledged.get(key) ?? 0) + 1);
  });

  const sockets = new Set<Socket>();
  const serve = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const servers: Server[] = [createServer(serve)];
  if (tlsFiles !== undefined) servers.push(createTlsServer(tlsFiles, serve));
  try {
    await listen(servers[0] as Server, port, host);
    if (tlsPort !== undefined) await listen(servers[1] as Server, tlsPort, host);
  } catch (error) {
    for (const server of servers) server.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw new ServiceStartError(`embedded MQTT broker could not listen on ${host}: ${describe(error)}`, {
      cause: error,
    });
  }

  let accepting = true;
  const refuseNewConnections = (): void => {
    if (!accepting) return;
    accepting = false;
    for (const server of servers) server.close();
  };
  const stop = once(async () => {
    refuseNewConnections();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
  });

  return {
    url: `mqtt://${host}:${port}`,
    host,
    port,
    accounts: options.accounts,
    ...(tlsPort === undefined ? {} : { tlsUrl: `mqtts://${host}:${tlsPort}` }),
    refuseNewConnections,
    async waitUntilAcknowledged(topic, clientId, timeoutMs) {
      const pending = (): number => (published.get(topic) ?? 0) - (acknowledged.get(`${clientId}\0${topic}`) ?? 0);
      const deadline = Date.now() + timeoutMs;
      while (pending() > 0 && Date.now() < deadline) await sleep(50);
      return Math.max(0, pending());
    },
    stop,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
