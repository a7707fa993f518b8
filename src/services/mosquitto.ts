import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { requireExecutable } from './find-executable.js';
import { freePort } from './free-port.js';
import { runCommand } from './run-command.js';
import type { RunningService } from './running-service.js';
import { spawnLogged, stopProcess, type LoggedProcess } from './spawn-logged.js';
import { waitUntilReady } from './wait-until-ready.js';

export interface MosquittoOptions {
  /** Holds the config, password file, log and (with persistence) the broker's database. Reused across restarts. */
  dir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. Pass the previous port to bring a broker back where it was. */
  port?: number;
  username: string;
  password: string;
  /** Keep persistent sessions and queued QoS 1/2 messages across restarts (saved on stop and every second). */
  persistence: boolean;
  /** How long to wait for the listener; default 10 s. */
  startTimeoutMs?: number;
}

export interface RunningMosquitto extends RunningService {
  /** `mqtt://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  username: string;
  password: string;
  dir: string;
  logFile: string;
  /** Graceful stop (the broker saves its database), then a fresh broker on the same port and dir. */
  restart: () => Promise<void>;
  /** SIGKILL, as in a crash: up to the last second of persistence changes may be lost. `restart()` brings it back. */
  kill: () => Promise<void>;
}

/** Starts a password-protected mosquitto broker on 127.0.0.1 as a child process. */
export async function startMosquitto(options: MosquittoOptions): Promise<RunningMosquitto> {
  const dir = path.resolve(options.dir);
  const port = options.port ?? (await freePort());
  const mosquitto = await requireExecutable('mosquitto', 'mosquitto');
  const mosquittoPasswd = await requireExecutable('mosquitto_passwd', 'mosquitto');
  const configFile = path.join(dir, 'mosquitto.conf');
  const passwordFile = path.join(dir, 'passwords');
  const logFile = path.join(dir, 'mosquitto.log');

  await mkdir(dir, { recursive: true });
  await runCommand(mosquittoPasswd, ['-b', '-c', passwordFile, options.username, options.password]);
  // mosquitto 2.0.16+ warns about (and later refuses) password files other users can read.
  await chmod(passwordFile, 0o600);
  await writeFile(configFile, renderConfig({ port, dir, passwordFile, persistence: options.persistence }));

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
    username: options.username,
    password: options.password,
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

function renderConfig(config: { port: number; dir: string; passwordFile: string; persistence: boolean }): string {
  const lines = [
    '# Written by src/services/mosquitto.ts.',
    `listener ${config.port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${config.passwordFile}`,
    // A worker that is down for a while must find its backlog waiting, not silently dropped at the default 1000.
    'max_queued_messages 10000',
    'log_dest stderr',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  ];
  if (config.persistence) {
    lines.push(
      'persistence true',
      `persistence_location ${config.dir}/`,
      // Seconds between saves: bounds what a crash (kill) loses without rewriting the database on every message.
      'autosave_interval 1',
    );
  }
  // As root, mosquitto would switch to the `mosquitto` user, which cannot read our files.
  if (process.getuid?.() === 0) lines.push('user root');
  return `${lines.join('\n')}\n`;
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
