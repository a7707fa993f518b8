import { mkdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { once } from './once.js';
import { assertPortFree } from './port-in-use.js';
import { removeProcessRecord, writeProcessRecord } from './process-record.js';
import { commandSucceeds } from './run-command.js';
import type { RunningService } from './running-service.js';
import { spawnLogged, stopProcess, type ProcessExit } from './spawn-logged.js';
import { ServiceStartError } from './service-start-error.js';
import { resolveTemporalCli } from './temporal-cli.js';
import { waitUntilReady } from './wait-until-ready.js';

export interface TemporalOptions {
  /** SQLite file keeping workflows across restarts; omit for an in-memory server. */
  dbFile?: string;
  /** gRPC frontend port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Serve the Web UI on this port; without it the server runs headless. */
  uiPort?: number;
  /** Created at launch next to `default`, which always exists. */
  namespace?: string;
  /** Default: $TEMPORAL_CLI, .tools/bin/temporal, then PATH. */
  cliPath?: string;
  /** Default: next to dbFile, else in the OS temp dir. */
  logFile?: string;
  /** How long to wait for the namespaces to answer; default 30 s. */
  startTimeoutMs?: number;
  /** Records the server here (process-record.ts) from spawn until it stops, so a crashed starter's orphan is known. */
  pidFile?: string;
}

export interface RunningTemporal extends RunningService {
  /** gRPC `127.0.0.1:PORT`, for Connection.connect({ address }) and `temporal --address`. */
  address: string;
  /** Web UI URL, or undefined when headless. */
  uiUrl: string | undefined;
  /** The namespace asked for, else `default`. */
  namespace: string;
  cliPath: string;
  logFile: string;
  pid: number;
  /** Resolves when the server process is gone, whether stopped or died. */
  exited: Promise<ProcessExit>;
}

/**
 * The SQLite file keeps a write-ahead log instead of SQLite's default rollback journal: a commit appends to the log
 * instead of creating, syncing and deleting a journal file. `synchronous=full` still syncs every commit before the
 * server answers, as the journal did.
 */
const WRITE_AHEAD_LOG_ARGS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=full'];
/**
 * Each task queue takes new tasks into one partition instead of four, so a task waits where polls arrive instead of
 * being forwarded between partitions. Polls still read all four: tasks an older server left in the others go out.
 */
const ONE_WRITE_PARTITION_ARGS = ['--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1'];
/**
 * What startTemporal adds to `start-dev` for a server with a database file: each cuts the server's own CPU per
 * workflow task, and neither changes what operators rely on (`npm run bench:temporal-store` compares them with none).
 */
export const DEV_SERVER_TUNING_ARGS: readonly string[] = [...WRITE_AHEAD_LOG_ARGS, ...ONE_WRITE_PARTITION_ARGS];

/** Shutdown persists the SQLite file; SIGKILL only after this long. */
export const TEMPORAL_STOP_GRACE_MS = 15_000;

/** Starts tried before giving up when each lost one of its ports to another process. */
const START_ATTEMPTS = 3;

/**
 * Starts `temporal server start-dev` on 127.0.0.1 and waits until its namespaces answer. Besides its frontend port
 * the dev server picks a metrics port and its services' internal ports itself, each found free then bound later:
 * another process can take one in between, and the server then exits at start (`address already in use`). Such a
 * start is tried again, on a new frontend port unless one was given.
 */
export async function startTemporal(options: TemporalOptions = {}): Promise<RunningTemporal> {
  const cliPath = options.cliPath ?? (await resolveTemporalCli());
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const logFile = options.logFile ?? defaultLogFile(options.dbFile, port);
    await mkdir(path.dirname(logFile), { recursive: true });
    const logStart = await sizeOf(logFile);
    try {
      return await startOnce(cliPath, port, logFile, options);
    } catch (error) {
      const lostPort = error instanceof ServiceStartError && (await logSince(logFile, logStart)).includes(PORT_TAKEN);
      if (!lostPort || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** What the dev server logs when a port it chose was taken before it bound it. */
const PORT_TAKEN = 'address already in use';

async function startOnce(
  cliPath: string,
  port: number,
  logFile: string,
  options: TemporalOptions,
): Promise<RunningTemporal> {
  const address = `127.0.0.1:${port}`;
  const namespace = options.namespace ?? 'default';

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile !== undefined) args.push('--db-filename', path.resolve(options.dbFile), ...WRITE_AHEAD_LOG_ARGS);
  args.push(...ONE_WRITE_PARTITION_ARGS);
  args.push(...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]));
  if (namespace !== 'default') args.push('--namespace', namespace);

  // Whoever holds the port would answer the readiness probe in our server's place.
  await assertPortFree('127.0.0.1', port, 'the Temporal dev server');
  if (options.uiPort !== undefined) await assertPortFree('127.0.0.1', options.uiPort, 'the Temporal Web UI');

  const server = spawnLogged(cliPath, args, { logFile });
  const pid = server.child.pid ?? -1;
  const { pidFile } = options;
  if (pidFile !== undefined) {
    await writeProcessRecord(pidFile, pid, 'SIGTERM');
    void server.exited.then(() => removeProcessRecord(pidFile, pid));
  }
  // Shutdown persists the SQLite file; give it time before SIGKILL.
  const stop = once(async () => void (await stopProcess(server, { graceMs: TEMPORAL_STOP_GRACE_MS })));
  try {
    await waitUntilReady({
      what: `Temporal dev server on ${address}`,
      probe: () => namespaceAnswers(cliPath, address, namespace),
      timeoutMs: options.startTimeoutMs ?? 30_000,
      intervalMs: 200,
      logFile,
      exited: server.exited,
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    address,
    uiUrl: options.uiPort === undefined ? undefined : `http://127.0.0.1:${options.uiPort}`,
    namespace,
    cliPath,
    logFile,
    pid,
    exited: server.exited,
    stop,
  };
}

function namespaceAnswers(cliPath: string, address: string, namespace: string): Promise<boolean> {
  return commandSucceeds(
    cliPath,
    ['operator', 'namespace', 'describe', '--address', address, '--namespace', namespace],
    {
      timeoutMs: 5_000,
    },
  );
}

function defaultLogFile(dbFile: string | undefined, port: number): string {
  return dbFile === undefined
    ? path.join(tmpdir(), `greengrader-temporal-${port}.log`)
    : path.join(path.dirname(path.resolve(dbFile)), 'temporal.log');
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (info) => info.size,
    () => 0,
  );
}

/** What the log file got after `offset` (it is appended to across starts). */
async function logSince(file: string, offset: number): Promise<string> {
  const text = await readFile(file).catch(() => Buffer.alloc(0));
  return text.subarray(offset).toString('utf8');
}
