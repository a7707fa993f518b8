import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

/** `$client`: the pool, for the few queries drizzle cannot send (several statements in one round trip). */
export type Database = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * PostgreSQL ends a session left idle inside a transaction this long, freeing its locks. Every claim in the fleet
 * takes one advisory lock (slot-queue-lock.ts): a process frozen while holding it (stopped, its VM paused, its host
 * gone without a reset) would otherwise stall every claim until someone killed that session by hand. Our
 * transactions send their statements back to back, so a minute idle is never one of them at work.
 */
const IDLE_IN_TRANSACTION_SEC_DEFAULT = 60;

/** One pool per process; every activity factory receives the `db` from here. */
export function connectDatabase(
  url: string,
  options: { maxConnections?: number; idleInTransactionSec?: number } = {},
): DatabaseHandle {
  const idleInTransactionSec = options.idleInTransactionSec ?? IDLE_IN_TRANSACTION_SEC_DEFAULT;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // 0 leaves PostgreSQL's own setting (off unless the server or the URL's options set it).
    ...(idleInTransactionSec > 0 ? { idle_in_transaction_session_timeout: idleInTransactionSec * 1000 } : {}),
  });
  surviveLostConnections(pool);
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/**
 * A client losing its server must not crash the process: idle ones are the pool's (its 'error' event), and one
 * checked out (a transaction) emits 'error' on itself, which pg-pool does not listen to then. Its queries reject
 * with the error, so the caller sees it there; the next query on the pool reconnects.
 */
export function surviveLostConnections(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
}
