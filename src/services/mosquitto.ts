import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { BrokerAccounts } from '../shared/broker-accounts.js';
import { resolveClientIdGuardPlugin } from './client-id-guard-plugin.js';
import { requireExecutable } from './find-executable.js';
import { freePort } from './free-port.js';
import { renderAcl, renderConfig } from './mosquitto-config.js';
import { runCommand } from './run-command.js';
import type { RunningService } from './running-service.js';
import { ServiceStartError } from './service-start-error.js';
import { spawnLogged, stopProcess, type LoggedProcess } from './spawn-logged.js';
import { waitUntilReady } from './wait-until-ready.js';

export interface MosquittoOptions {
  /** Holds the config, password file, log and (with persistence) the broker's database. Reused across restarts. */
  dir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. Pass the previous port to bring a broker back where it was. */
  port?: number;
  /** The publisher's and the bridge's logins, the topic they are confined to, the bridge's client id. */
  accounts: BrokerAccounts;
  /** Keep persistent sessions and queued QoS 1/2 messages across restarts (saved on stop and every second). */
  persistence: boolean;
  /** Publishes with a larger payload are refused (the connection is closed); MAX_PAYLOAD_BYTES. */
  maxPayloadBytes: number;
  /** See mosquitto-config.ts; tests lower it to Mosquitto's default to watch the broker drop messages. */
  maxQueuedMessages?: number;
  /** Seconds between $SYS updates; default Mosquitto's 10. */
  sysIntervalSec?: number;
  /** A second, TLS-only listener on 127.0.0.1 with this PEM certificate and key. */
  tls?: { port?: number; certFile: string; keyFile: string };
  /** How long to wait for the listener; default 10 s. */
  startTimeoutMs?: number;
  /**
   * The built client-id-guard.so that keeps `accounts.bridgeClientId` for the bridge's login; default
   * $GG_MOSQUITTO_CLIENT_ID_GUARD, else scripts/build-mosquitto-plugin.sh builds it (see client-id-guard-plugin.ts).
   */
  clientIdGuardPlugin?: string;
}

export interface RunningMosquitto extends RunningService {
  /** `mqtt://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  accounts: BrokerAccounts;
  /** `mqtts://127.0.0.1:PORT` when a TLS listener was asked for. */
  tlsUrl?: string;
  dir: string;
  logFile: string;
  /** Graceful stop (the broker saves its database), then a fresh broker on the same port and dir. */
  restart: () => Promise<void>;
  /** SIGKILL, as in a crash: up to the last second of persistence changes may be lost. `restart()` brings it back. */
  kill: () => Promise<void>;
}

/**
 * Starts a mosquitto broker on 127.0.0.1 as a child process, with the two logins, their ACL and the plugin that
 * reserves the bridge's client id for the bridge's login.
 */
export async function startMosquitto(options: MosquittoOptions): Promise<RunningMosquitto> {
  const dir = path.resolve(options.dir);
  const port = options.port ?? (await freePort());
  const mosquitto = await requireExecutable('mosquitto', 'mosquitto');
  const mosquittoPasswd = await requireExecutable('mosquitto_passwd', 'mosquitto');
  const configFile = path.join(dir, 'mosquitto.conf');
  const passwordFile = path.join(dir, 'passwords');
  const aclFile = path.join(dir, 'acl');
  const logFile = path.join(dir, 'mosquitto.log');
  const { bridge, publisher } = options.accounts;
  if (bridge.username === publisher.username) {
    throw new ServiceStartError(
      `the bridge and the publisher need different broker logins, both are "${bridge.username}"`,
    );
  }
  // Each of these ends up as a value on a mosquitto.conf line.
  for (const [what, value] of Object.entries({
    'bridge username': bridge.username,
    'publisher username': publisher.username,
    'bridge client id': options.accounts.bridgeClientId,
  })) {
    if (value === '' || /\s/.test(value)) {
      throw new ServiceStartError(
        `the ${what} must be non-empty and without spaces or line breaks, got ${JSON.stringify(value)}`,
      );
    }
  }
  const tlsPort = options.tls === undefined ? undefined : (options.tls.port ?? (await freePort()));
  // Without it the publisher's login could take over the bridge's session: no guard, no broker.
  const clientIdGuardPlugin = options.clientIdGuardPlugin ?? (await resolveClientIdGuardPlugin());

  await mkdir(dir, { recursive: true });
  await runCommand(mosquittoPasswd, ['-b', '-c', passwordFile, bridge.username, bridge.password]);
  await runCommand(mosquittoPasswd, ['-b', passwordFile, publisher.username, publisher.password]);
  // mosquitto 2.0.16+ warns about (and later refuses) password files other users can read.
  await chmod(passwordFile, 0o600);
  await writeFile(aclFile, renderAcl(options.accounts), { mode: 0o600 });
  const listeners = [
    `listener ${port} 127.0.0.1`,
    ...(options.tls === undefined
      ? []
      : [`listener ${tlsPort} 127.0.0.1`, `certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`]),
  ];
  const config = renderConfig({
    listeners,
    passwordFile,
    aclFile,
    clientIdGuard: {
      plugin: clientIdGuardPlugin,
      clientId: options.accounts.bridgeClientId,
      username: bridge.username,
    },
    topic: options.accounts.topic,
    maxPayloadBytes: options.maxPayloadBytes,
    maxQueuedMessages: options.maxQueuedMessages,
    sysIntervalSec: options.sysIntervalSec,
    persistenceDir: options.persistence ? dir : undefined,
    // As root, mosquitto would switch to the `mosquitto` user, which cannot read our files.
    runAsRoot: process.getuid?.() === 0,
  });
  await writeFile(configFile, config);

  const launch = async (): Promise<LoggedProcess> => {
    const broker = spawnLogged(mosquitto, ['-c', configFile], { logFile });
    try {
      await waitUntilReady({
        what: `mosquitto on 127.0.0.1:${port}`,
        probe: () => acceptsTcp(port),
        timeoutMs: options.startTimeoutMs ?? 10_000,
        intervalMs: 50,
        logFile,
        exited: broker.exited,
      });
    } catch (error) {
      await stopProcess(broker, { graceMs: 2_000 });
      throw error;
    }
    return broker;
  };

  let broker: LoggedProcess | undefined = await launch();
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const current = broker;
    broker = undefined;
    if (current !== undefined) await stopProcess(current, { signal, graceMs: 10_000 });
  };

  return {
    url: `mqtt://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    accounts: options.accounts,
    ...(tlsPort === undefined ? {} : { tlsUrl: `mqtts://127.0.0.1:${tlsPort}` }),
    dir,
    logFile,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      broker = await launch();
    },
  };
}

function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
