import { connectDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { requireEnv } from './env.js';
import { createFreshDatabase } from './fresh-database.js';

export interface MigratedDatabase {
  url: string;
  db: Database;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database with GreenGrader's schema, for tests that need PostgreSQL but no workers. */
export async function createMigratedDatabase(): Promise<MigratedDatabase> {
  const fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
  const handle = connectDatabase(fresh.url, { maxConnections: 4 });
  try {
    await migrateDatabase(handle.pool);
  } catch (error) {
    await handle.close();
    await fresh.drop();
    throw error;
  }
  return {
    url: fresh.url,
    db: handle.db,
    drop: async () => {
      await handle.close();
      await fresh.drop();
    },
  };
}
