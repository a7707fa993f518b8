import { access, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { findExecutable } from './find-executable.js';

// Debian keeps server binaries out of PATH, one directory per major version.
const debianRoot = '/usr/lib/postgresql';

/** Directory holding initdb and pg_ctl: the one initdb on PATH lives in, else Debian's newest version. */
export async function findPostgresBinDir(): Promise<string> {
  const onPath = await findExecutable('initdb');
  if (onPath !== undefined) {
    // Resolve symlinks so pg_ctl comes from the same installation as initdb.
    const dir = path.dirname(await realpath(onPath));
    if (await exists(path.join(dir, 'pg_ctl'))) return dir;
  }
  const versions = await readdir(debianRoot).catch(() => []);
  const newestFirst = versions
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => b - a);
  for (const version of newestFirst) {
    const dir = path.join(debianRoot, String(version), 'bin');
    if (await exists(path.join(dir, 'initdb'))) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found: run scripts/bootstrap.sh (installs postgresql)',
  );
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
