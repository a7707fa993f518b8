import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const srcRoot = fileURLToPath(new URL('../../src/', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : Promise.resolve([path.join(dir, entry.name)]),
    ),
  );
  return nested.flat();
}

// The harness only runs test/**; a test written under src/ would never run, and would ship in the image.
test('no test code lives under src/', async () => {
  const files = await sourceFiles(srcRoot);
  assert.ok(files.length > 100, `src/ holds ${String(files.length)} files: the walk did not reach it`);
  const offenders: string[] = [];
  for (const file of files) {
    const relative = path.relative(srcRoot, file);
    if (/\.test\.[cm]?[jt]s$/.test(file)) offenders.push(`${relative} (a test file)`);
    else if (/\bfrom ['"]node:test['"]/.test(await readFile(file, 'utf8')))
      offenders.push(`${relative} (imports node:test)`);
  }
  assert.deepEqual(offenders, [], 'test code belongs in test/unit/<folder>/, named like the code it tests');
});
