import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A copy of the migrations folder that ends at `lastTag`: the schema as that release left it. */
export async function migrationsUpTo(lastTag: string): Promise<string> {
  const source = fileURLToPath(new URL('../../drizzle', import.meta.url));
  const folder = await mkdtemp(path.join(tmpdir(), 'gg-migrations-'));
  await cp(source, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const last = journal.entries.findIndex((entry) => entry.tag === lastTag);
  assert.ok(last >= 0, `migration ${lastTag} exists`);
  journal.entries = journal.entries.slice(0, last + 1);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}
