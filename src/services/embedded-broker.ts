import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aedes, type AuthenticateError, type AuthErrorCode } from 'aedes';
import { freePort } from './free-port.js';
import { once } from './once.js';
import type { RunningService } from './running-service.js';
import { ServiceStartError } from './service-start-error.js';

export interface EmbeddedBrokerOptions {
  /** Interface to listen on; default 127.0.0.1 (0.0.0.0 to let Gradescope's hosts reach it). */
  host?: string;
  /** TCP port; a free one when omitted. */
  port?: number;
  /** The one login the broker accepts (publisher and bridge alike). */
  username: string;
  password: string;
}

export interface RunningEmbeddedBroker extends RunningService {
  /** `mqtt://HOST:PORT` */
  url: string;
  host: string;
  port: number;
  username: string;
  password: string;
  /** Stops accepting connections; connected clients carry on until `stop`. */
  refuseNewConnections(): void;
  /**
   * Waits until `clientId` has acknowledged every QoS ≥ 1 message published on `topic` so far (the bridge
   * acknowledges only once a message is stored), or `timeoutMs` passes. Returns how many are still unacknowledged.
   */
  waitUntilAcknowledged(topic: string, clientId: string, timeoutMs: number): Promise<number>;
}

// Bad credentials get CONNACK return code 4; `AuthErrorCode` is a const enum, unusable with isolatedModules.
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;

/**
 * An MQTT 3.1.1 broker in this process (aedes), with username/password authentication. Sessions,
 * subscriptions and queued QoS 1 messages live in memory: a persistent session (clean: false) survives its
 * client reconnecting, but not this process restarting. Use Mosquitto (MQTT_URL) where queued messages must
 * survive a broker restart.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<RunningEmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const expected = digest(`${options.username}\0${options.password}`);
  const broker = await Aedes.createBroker({
    // MQTT 3.1.1 allows longer ids than 3.1's 23 characters; test bridges use `greengrader-bridge-<suffix>`.
    maxClientsIdLength: 256,
    // A subscriber that stops reading is cut off rather than stalling delivery to everyone else.
    drainTimeout: 30_000,
    authenticate: (_client, username, password, done) => {
      const given = digest(`${username ?? ''}\0${password?.toString('utf8') ?? ''}`);
      if (timingSafeEqual(given, expected)) {
        done(null, true);
        return;
      }
      const error: AuthenticateError = Object.assign(new Error('bad username or password'), {
        returnCode: BAD_USERNAME_OR_PASSWORD,
      });
      done(error, false);
    },
  });

  // Delivery bookkeeping for waitUntilAcknowledged: QoS ≥ 1 publishes per topic, acknowledgements per client.
  const published = new Map<string, number>();
  const acknowledged = new Map<string, number>();
  broker.on('publish', (packet, client) => {
    if (client !== null && packet.qos > 0) published.set(packet.topic, (published.get(packet.topic) ?? 0) + 1);
  });
  broker.on('ack', (packet, client) => {
    if (packet.cmd !== 'publish') return;
    const key = `${client.id}\0${packet.topic}`;
    acknowledged.set(key, (acknowledged.get(key) ?? 0) + 1);
  });

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await listen(server, port, host);
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw new ServiceStartError(`embedded MQTT broker could not listen on ${host}:${port}: ${describe(error)}`, {
      cause: error,
    });
  }

  let accepting = true;
  const refuseNewConnections = (): void => {
    if (!accepting) return;
    accepting = false;
    server.close();
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
    username: options.username,
    password: options.password,
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

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
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
