import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import { commandSucceeds, runCommand } from './run-command.js';

const serviceUser = 'postgres';

/** True when this process is root, where PostgreSQL refuses to run and must be started as another user. */
export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Prepares `dataDir` for a server run as the `postgres` system user (created if missing, as on a bare CI image):
 * owns the directory and lets that user traverse its parents (search bit only, no listing).
 */
export async function handDirToPostgresUser(dataDir: string): Promise<void> {
  if (!(await commandSucceeds('id', ['-u', serviceUser]))) {
    await runCommand('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      serviceUser,
    ]);
  }
  await runCommand('chown', ['-R', `${serviceUser}:`, dataDir]);
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
  }
}

/** Prefixes a command so it runs as the postgres user when we are root, and as ourselves otherwise. */
export function asPostgresUser(command: string, args: readonly string[]): [string, string[]] {
  return runningAsRoot() ? ['runuser', ['-u', serviceUser, '--', command, ...args]] : [command, [...args]];
}
