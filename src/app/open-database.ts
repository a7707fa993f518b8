import type { Config } from '../config/config.js';
import { connectDatabase, type Database } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import type { CleanupStack } from './cleanup-stack.js';

/** The process's pool, migrated before anything uses it, closed by `cleanup`. */
export async function openDatabase(config: Config, cleanup: CleanupStack): Promise<Database> {
  const handle = connectDatabase(config.DATABASE_URL, {
    idleInTransactionSec: config.DATABASE_IDLE_IN_TRANSACTION_SEC,
  });
  cleanup.push('database pool', () => handle.close());
  await migrateDatabase(handle.pool);
  return handle.db;
}
