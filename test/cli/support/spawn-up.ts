import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning, readProcessRecord } from '../../../src/services/process-record.js';
import { freePort } from '../../../src/services/free-port.js';
import { requireEnv } from '../../support/env.js';
import { waitFor } from '../../support/wait-for.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** Services `up` would use instead of starting its own: these tests want its own. */
const GIVEN_SERVICES = [
  'DATABASE_URL',
  'MQTT_URL',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
  'MQTT_PUBLISHER_USERNAME',
  'MQTT_PUBLISHER_PASSWORD',
  'TEMPORAL_ADDRESS',
];

export interface UpPorts {
  mqtt: number;
  postgres: number;
  temporal: number;
  temporalUi: number;
  dashboard: number;
}

/** A `greengrader up` child process with what it printed so far. */
export interface UpProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits for "GreenGrader is up"; throws with its stderr if it exits first. */
  waitUntilUp(timeoutMs?: number): Promise<void>;
  /** SIGINT, then SIGKILL of its process group after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export async function freeUpPorts(): Promise<UpPorts> {
  return {
    mqtt: await freePort(),
    postgres: await freePort(),
    temporal: await freePort(),
    temporalUi: await freePort(),
    dashboard: await freePort(),
  };
}

/**
 * Starts `greengrader up` on its own ports and data directory, in its own process group so a test can kill
 * the group as a crash would.
 */
export function spawnUp(dataDir: string, ports: UpPorts, env: NodeJS.ProcessEnv = {}): UpProcess {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GG_DATA_DIR: dataDir,
    AUTOGRADER_BASE_IMAGE: requireEnv('GG_TEST_BASE_IMAGE'),
    IMAGE_BUILD_NETWORK: 'none',
    NODE_NAME: `up-test-${randomUUID().slice(0, 8)}`,
    MAX_DELAY_SEC: '0',
    GRADER_TIMEOUT_SEC: '20',
    DASHBOARD_PORT: String(ports.dashboard),
    ...env,
  };
  for (const name of GIVEN_SERVICES) delete childEnv[name];
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'up'],
      ...['--mqtt-port', String(ports.mqtt), '--postgres-port', String(ports.postgres)],
      ...['--temporal-port', String(ports.temporal), '--temporal-ui-port', String(ports.temporalUi)],
    ],
    { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitUntilUp(timeoutMs = 60_000) {
      await waitFor(() => stdout.includes('GreenGrader is up') || !running(), {
        description: '`up` to print where everything is',
        timeoutMs,
        intervalMs: 200,
      });
      if (!running()) throw new Error(`up exited early (${String(child.exitCode)}):\n${stderr}`);
    },
    async stop(graceMs = 30_000) {
      if (!running()) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => killGroup(child), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What a `kill -9` of the terminal's job does: the whole process group, at once. */
export function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    process.kill(-child.pid, 'SIGKILL');
  }
}

/** The pid `up` recorded for a service it started (GG_DATA_DIR/run/NAME.pid). */
export async function recordedPid(dataDir: string, service: 'temporal' | 'postgres'): Promise<number | undefined> {
  return (await readProcessRecord(path.join(dataDir, 'run', `${service}.pid`)))?.service.pid;
}

/** Test cleanup: SIGKILLs every service still running that any `up` recorded in `dataDir`. */
export async function killRecordedServices(dataDir: string): Promise<void> {
  const files = await readdir(path.join(dataDir, 'run')).catch(() => []);
  for (const file of files) {
    const record = await readProcessRecord(path.join(dataDir, 'run', file));
    if (record !== null && (await isRunning(record.service))) process.kill(record.service.pid, 'SIGKILL');
  }
}
