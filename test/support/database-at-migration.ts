import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { requireEnv } from './env.js';
import { createFreshDatabase } from './fresh-database.js';

/** A copy of the migrations folder that ends at `lastTag`: the schema as that release left it. */
async function migrationsUpTo(lastTag: string): Promise<string> {
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

/** A fresh database migrated up to `lastTag` only, as that release left it; `drop` closes and drops it. */
export async function databaseAtMigration(
  lastTag: string,
): Promise<{ handle: DatabaseHandle; drop: () => Promise<void> }> {
  const fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
  const handle = connectDatabase(fresh.url, { maxConnections: 2 });
  const drop = async () => {
    await handle.close();
    await fresh.drop();
  };
  const folder = await migrationsUpTo(lastTag);
  try {
    await migrate(drizzle(handle.pool), { migrationsFolder: folder });
  } catch (error) {
    await drop();
    throw error;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  return { handle, drop };
}
