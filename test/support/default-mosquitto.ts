import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/services/free-port.js';
import { spawnLogged, stopProcess } from '../../src/services/spawn-logged.js';
import { waitUntilReady } from '../../src/services/wait-until-ready.js';

const run = promisify(execFile);

export interface DefaultMosquitto {
  url: string;
  username: string;
  password: string;
  logFile: string;
  /** Adds a login to the password file and has the running broker read it again (SIGHUP), as an operator does. */
  addLogin(username: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Mosquitto as an operator's stock install runs it: a password-protected listener on 127.0.0.1 and nothing
 * else, so its queue limits stay at their defaults (max_queued_messages 1000, max_inflight_messages 20).
 * src/services/mosquitto.ts raises those limits; a burst test through it would hide what a default broker drops.
 */
export async function startDefaultMosquitto(): Promise<DefaultMosquitto> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gg-default-mosquitto-'));
  const port = await freePort();
  const username = 'greengrader';
  const password = `pw-${port}`;
  const passwordFile = path.join(dir, 'passwords');
  const configFile = path.join(dir, 'mosquitto.conf');
  const logFile = path.join(dir, 'mosquitto.log');
  await run('mosquitto_passwd', ['-b', '-c', passwordFile, username, password]);
  await chmod(passwordFile, 0o600);
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwordFile}`];
  // As root, mosquitto would switch to the `mosquitto` user, which cannot read our files.
  if (process.getuid?.() === 0) lines.push('user root');
  await writeFile(configFile, `${lines.join('\n')}\n`);

  const broker = spawnLogged('mosquitto', ['-c', configFile], { logFile });
  const stop = async () => {
    await stopProcess(broker, { graceMs: 5_000 });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady({
      what: `default-config mosquitto on 127.0.0.1:${port}`,
      probe: () => acceptsTcp(port),
      timeoutMs: 10_000,
      intervalMs: 50,
      logFile,
      exited: broker.exited,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const addLogin = async (name: string, secret: string) => {
    await run('mosquitto_passwd', ['-b', passwordFile, name, secret]);
    broker.child.kill('SIGHUP');
  };
  return { url: `mqtt://127.0.0.1:${port}`, username, password, logFile, addLogin, stop };
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
