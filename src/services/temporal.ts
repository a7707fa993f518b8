import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { once } from './once.js';
import { commandSucceeds, runCommand } from './run-command.js';
import type { RunningService } from './running-service.js';
import { spawnLogged, stopProcess } from './spawn-logged.js';
import { resolveTemporalCli } from './temporal-cli.js';
import { waitUntilReady } from './wait-until-ready.js';

/** Value types the Temporal CLI accepts for custom search attributes. */
export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface TemporalOptions {
  /** SQLite file keeping workflows across restarts; omit for an in-memory server. */
  dbFile?: string;
  /** gRPC frontend port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Serve the Web UI on this port; without it the server runs headless. */
  uiPort?: number;
  /** Created at launch next to `default`, which always exists. */
  namespace?: string;
  /** Registered at launch in every namespace the server creates. */
  searchAttributes?: Record<string, SearchAttributeType>;
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
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }

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

/**
 * Registers custom search attributes on a running server (start-dev's --search-attribute covers launch time).
 * Fails if a name is already registered with another type.
 */
export async function registerSearchAttributes(
  cliPath: string,
  address: string,
  attrs: Record<string, SearchAttributeType>,
  namespace = 'default',
): Promise<void> {
  // The CLI takes many --name but a single --type per call.
  const namesByType = new Map<SearchAttributeType, string[]>();
  for (const [name, type] of Object.entries(attrs)) namesByType.set(type, [...(namesByType.get(type) ?? []), name]);
  for (const [type, names] of namesByType) {
    const nameArgs = names.flatMap((name) => ['--name', name]);
    await runCommand(
      cliPath,
      [
        'operator',
        'search-attribute',
        'create',
        '--address',
        address,
        '--namespace',
        namespace,
        '--type',
        type,
        ...nameArgs,
      ],
      { timeoutMs: 30_000 },
    );
  }
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
