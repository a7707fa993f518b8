import { readdir } from 'node:fs/promises';
import path from 'node:path';

// Node 20's --test does not expand globs, so the harness lists `test/**/*.test.ts` itself. Tests never live in src/
// (test/unit/layout.test.ts keeps it so).
const testRoots = ['test'];
const skippedDirs = new Set(['node_modules', '.git', '.tools', '.data']);

/** Every *.test.ts under test/, relative to `repoRoot`, sorted. */
export async function findTestFiles(repoRoot: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(path.join(repoRoot, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory() && !skippedDirs.has(entry.name)) await walk(relative);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(relative);
    }
  };
  for (const root of testRoots) await walk(root);
  return found.sort();
}

/** True when a `node --test` command names no test files, so the harness must add them. */
export function needsTestFiles(command: readonly string[]): boolean {
  const isTestRun = command.some((arg) => arg === '--test');
  const namesFiles = command.slice(1).some((arg) => !arg.startsWith('-') && /\.[cm]?[jt]s$/.test(arg));
  return isTestRun && !namesFiles;
}
