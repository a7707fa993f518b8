import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { once } from './once.js';
import { commandSucceeds } from './run-command.js';
import type { RunningService } from './running-service.js';
import { spawnLogged, stopProcess } from './spawn-logged.js';
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
}

/** Starts `temporal server start-dev` on 127.0.0.1 and waits until its namespaces answer. */
export async function startTemporal(options: TemporalOptions = {}): Promise<RunningTemporal> {
  const cliPath = options.cliPath ?? (await resolveTemporalCli());
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const namespace = options.namespace ?? 'default';
  const logFile = options.logFile ?? defaultLogFile(options.dbFile, port);
  await mkdir(path.dirname(logFile), { recursive: true });

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile !== undefined) args.push('--db-filename', path.resolve(options.dbFile));
  args.push(...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]));
  if (namespace !== 'default') args.push('--namespace', namespace);

  const server = spawnLogged(cliPath, args, { logFile });
  // Shutdown persists the SQLite file; give it time before SIGKILL.
  const stop = once(async () => void (await stopProcess(server, { graceMs: 15_000 })));
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
