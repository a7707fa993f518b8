import { access, constants } from 'node:fs/promises';
import path from 'node:path';

// Servers live in sbin, which is not on a non-root user's PATH on Debian.
const sbinDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Finds an executable on PATH (plus the sbin directories); undefined when absent. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...sbinDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Like findExecutable, but throws an error that says which Debian package to install. */
export async function requireExecutable(name: string, debianPackage: string): Promise<string> {
  const found = await findExecutable(name);
  if (found === undefined) {
    throw new Error(`${name} not found on PATH: run scripts/bootstrap.sh (installs the ${debianPackage} package)`);
  }
  return found;
}
