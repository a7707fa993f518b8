import { execFile } from 'node:child_process';

export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kills the command after this long; every caller probes or sets up something that should be quick. */
  timeoutMs?: number;
}

/** Thrown when a helper command exits non-zero; the message carries its stderr. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${String(exitCode)}): ${stderr.trim() || '(no stderr)'}`);
    this.name = 'CommandFailedError';
  }
}

/** Runs a command to completion and returns its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: options.env, cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const exitCode = error.code ?? error.signal ?? null;
        reject(new CommandFailedError([command, ...args].join(' '), exitCode, stderr || error.message));
      },
    );
  });
}

/** True when the command exits 0; for probes where failure is an answer, not an error. */
export async function commandSucceeds(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<boolean> {
  try {
    await runCommand(command, args, options);
    return true;
  } catch {
    return false;
  }
}
