import { access, appendFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { portToListenOn } from './listen-port.js';
import { once } from './once.js';
import { findPostgresBinDir } from './postgres-binaries.js';
import { asPostgresUser, handDirToPostgresUser, runningAsRoot } from './postgres-user.js';
import { CommandFailedError, runCommand } from './run-command.js';
import type { RunningService } from './running-service.js';
import {
  identify,
  removeProcessRecord,
  watchUntilGone,
  writeProcessRecord,
  type ProcessIdentity,
} from './process-record.js';
import { ServiceStartError } from './service-start-error.js';
import type { ProcessExit } from './spawn-logged.js';

export interface PostgresOptions {
  /** Cluster directory: initialised with initdb when missing or empty, reused when it already holds a cluster. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Superuser role; default `postgres`. */
  user?: string;
  /** When set, TCP logins must present it (scram-sha-256); otherwise 127.0.0.1 is trusted. */
  password?: string;
  /** Pass false for throwaway test clusters: no fsync is much faster and only loses data on a machine crash. */
  fsync?: boolean;
  /** How long `pg_ctl start` may wait for the server to accept connections; default 30 s. */
  startTimeoutMs?: number;
  /** Records the postmaster here (process-record.ts) until it stops, so a crashed starter's orphan is known. */
  pidFile?: string;
}

export interface RunningPostgres extends RunningService {
  /** `postgres://USER[:PASSWORD]@127.0.0.1:PORT/postgres` */
  url: string;
  host: string;
  port: number;
  user: string;
  dataDir: string;
  /** Directory of the unix socket (for `psql -h`). */
  socketDir: string;
  logFile: string;
  /** The postmaster's pid. */
  pid: number;
  /**
   * Resolves once the postmaster is gone. It is pg_ctl's daemon, not our child, so this polls and the exit
   * status is unknown; stopping resolves it too.
   */
  watchExit(): Promise<ProcessExit>;
}

const settingsFile = 'greengrader.conf';
// Linux caps a unix socket path (sun_path) at 107 bytes.
const maxSocketPathLength = 107;

/** Starts (initialising if needed) a PostgreSQL cluster in `dataDir`, listening on 127.0.0.1 only. */
export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const user = options.user ?? 'postgres';
  const binDir = await findPostgresBinDir();
  const bin = (name: string): string => path.join(binDir, name);
  const logFile = path.join(dataDir, 'server.log');
  // The socket's name carries the port: the longest a port can make it.
  const socketPath = path.join(dataDir, '.s.PGSQL.65535');
  if (socketPath.length > maxSocketPathLength) {
    throw new Error(`dataDir too long for a unix socket (${socketPath.length} > ${maxSocketPathLength}): ${dataDir}`);
  }

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const hasCluster = await access(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!hasCluster && (await readdir(dataDir)).length > 0) {
    throw new Error(`${dataDir} is neither empty nor a PostgreSQL cluster`);
  }
  if (runningAsRoot()) await handDirToPostgresUser(dataDir);
  if (!hasCluster) await initCluster(bin('initdb'), dataDir, user, options);
  else if (options.password !== undefined) await requirePasswordOverTcp(dataDir);
  const port = await portToListenOn('PostgreSQL', options.port);
  await writeFile(path.join(dataDir, settingsFile), renderSettings(port, dataDir, options.fsync ?? true), {
    mode: 0o644,
  });
  const timeoutSec = Math.ceil((options.startTimeoutMs ?? 30_000) / 1000);
  try {
    await runAsPostgres(bin('pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(timeoutSec), '-s'], {
      timeoutMs: (timeoutSec + 5) * 1000,
    });
  } catch (error) {
    throw await ServiceStartError.withLog(`PostgreSQL in ${dataDir} did not start on port ${port}`, logFile, error);
  }

  const postmaster = await readPostmaster(dataDir);
  const { pidFile } = options;
  if (pidFile !== undefined) await writeProcessRecord(pidFile, postmaster.pid, 'SIGINT'); // SIGINT: fast shutdown
  const watching = new AbortController();
  let exited: Promise<ProcessExit> | undefined;
  const watchExit = (): Promise<ProcessExit> =>
    (exited ??= watchUntilGone(postmaster, watching.signal).then((gone) =>
      gone === 'cancelled' ? { code: null, signal: null } : gone,
    ));
  const stop = once(async () => {
    watching.abort();
    await stopCluster(bin('pg_ctl'), dataDir);
    if (pidFile !== undefined) await removeProcessRecord(pidFile, postmaster.pid);
  });
  try {
    if (options.password !== undefined) {
      await psql(
        bin('psql'),
        dataDir,
        port,
        user,
        `ALTER ROLE ${quoteIdent(user)} PASSWORD ${quoteLiteral(options.password)}`,
      );
    }
    // pg_ctl -w only proves the socket answers; check the TCP listener clients will use.
    await runCommand(
      bin('psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-wXAtc', 'select 1'],
      {
        env: { ...process.env, PGPASSWORD: options.password ?? '', PGCONNECT_TIMEOUT: '5' },
        timeoutMs: 10_000,
      },
    );
  } catch (error) {
    await stop().catch(() => undefined);
    throw await ServiceStartError.withLog(`PostgreSQL on port ${port} refused the test login`, logFile, error);
  }

  const secret = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}`;
  return {
    url: `postgres://${encodeURIComponent(user)}${secret}@127.0.0.1:${port}/postgres`,
    host: '127.0.0.1',
    port,
    user,
    dataDir,
    socketDir: dataDir,
    logFile,
    pid: postmaster.pid,
    watchExit,
    stop,
  };
}

/** The postmaster `pg_ctl start` left running: the first line of postmaster.pid. */
async function readPostmaster(dataDir: string): Promise<ProcessIdentity> {
  const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const identity = Number.isInteger(pid) ? await identify(pid) : null;
  if (identity === null) throw new ServiceStartError(`PostgreSQL in ${dataDir} is not running after pg_ctl start`);
  return identity;
}

async function initCluster(initdb: string, dataDir: string, user: string, options: PostgresOptions): Promise<void> {
  const args = ['-D', dataDir, '-U', user, '--encoding=UTF8', '--locale=C', '--auth-local=trust'];
  args.push(`--auth-host=${options.password === undefined ? 'trust' : 'scram-sha-256'}`);
  if (options.fsync === false) args.push('--no-sync');
  await runAsPostgres(initdb, args, { timeoutMs: 120_000 });
  // Settings that change per start (the port) live in their own file, rewritten each time.
  await appendFile(path.join(dataDir, 'postgresql.conf'), `\ninclude_if_exists = '${settingsFile}'\n`);
}

/**
 * A cluster first started without a password trusts every TCP login from this machine. Given a password now,
 * its `host` rules move to scram-sha-256 before the server starts, so any local user must present it.
 */
async function requirePasswordOverTcp(dataDir: string): Promise<void> {
  const hbaFile = path.join(dataDir, 'pg_hba.conf');
  const rules = await readFile(hbaFile, 'utf8');
  const upgraded = rules.replace(/^(host(?:ssl|nossl)?\s.*\s)trust(\s*)$/gm, '$1scram-sha-256$2');
  // writeFile keeps the file's owner (the postgres user) and mode.
  if (upgraded !== rules) await writeFile(hbaFile, upgraded);
}

function renderSettings(port: number, dataDir: string, fsync: boolean): string {
  const durability = fsync ? [] : ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off'];
  return [
    '# Rewritten by src/services/postgres.ts at every start.',
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${dataDir.replaceAll("'", "''")}'`,
    // Test files run in parallel, each with its own pool, plus workers: the default 100 runs out.
    'max_connections = 200',
    ...durability,
    '',
  ].join('\n');
}

async function stopCluster(pgCtl: string, dataDir: string): Promise<void> {
  try {
    await runAsPostgres(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-s'], { timeoutMs: 60_000 });
  } catch (error) {
    // pg_ctl status exits 3 when no server runs: already stopped (or killed) is what we wanted.
    const status = await runAsPostgres(pgCtl, ['status', '-D', dataDir]).catch((statusError: unknown) => statusError);
    if (status instanceof CommandFailedError && status.exitCode === 3) return;
    throw error;
  }
}

async function psql(psqlPath: string, dataDir: string, port: number, user: string, sql: string): Promise<void> {
  await runAsPostgres(psqlPath, [
    '-h',
    dataDir,
    '-p',
    String(port),
    '-U',
    user,
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-wXqc',
    sql,
  ]);
}

function runAsPostgres(
  command: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const [file, fileArgs] = asPostgresUser(command, args);
  // cwd "/" because the postgres user may not be allowed into ours.
  return runCommand(file, fileArgs, { cwd: '/', timeoutMs: options.timeoutMs ?? 30_000 });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
