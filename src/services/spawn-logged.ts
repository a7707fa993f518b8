import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** How a background process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  error?: Error;
}

export interface LoggedProcess {
  child: ChildProcess;
  /** Resolves (never rejects) once the process is gone. */
  exited: Promise<ProcessExit>;
  logFile: string;
}

/**
 * Starts a long-running server with stdout and stderr appended to `logFile`.
 * Detached into its own process group so a Ctrl-C in the terminal reaches only the harness, which then stops
 * services in order instead of having them all die mid-test.
 */
export function spawnLogged(
  command: string,
  args: readonly string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): LoggedProcess {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      stdio: ['ignore', fd, fd],
      env: options.env,
      cwd: options.cwd,
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, logFile: options.logFile };
}

/** Sends `signal`, then SIGKILL if the process is still alive after `graceMs`. */
export async function stopProcess(
  process: LoggedProcess,
  options: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<ProcessExit> {
  const { child, exited } = process;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
  child.kill(options.signal ?? 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.graceMs ?? 10_000);
  });
  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (first !== 'timeout') return first;
  child.kill('SIGKILL');
  return exited;
}

/** Describes an exit for error messages. */
export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not be started: ${exit.error.message}`;
  // A daemon we only watch (PostgreSQL's postmaster) leaves no status to us.
  if (exit.code === null && exit.signal === null) return 'exited (status unknown)';
  return exit.signal === null ? `exited with code ${String(exit.code)}` : `was killed by ${exit.signal}`;
}
