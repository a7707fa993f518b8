import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';

export interface CountingDatabase {
  /** Every statement sent through it is counted. */
  db: Database;
  /** The same database, not counted: for the test's own checks. */
  uncounted: Database;
  /** Statements sent through `db` so far. */
  statements(): number;
  close(): Promise<void>;
}

/**
 * A drizzle database over a pool that counts the statements it sends: a round trip to PostgreSQL is what a
 * start's bookkeeping costs, so tests and benches bound that count rather than a time.
 */
export function createCountingDatabase(url: string): CountingDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const checks = new pg.Pool({ connectionString: url, max: 2 });
  let statements = 0;
  // Every statement, pool.query's and a transaction's alike, goes through one of the pool's clients.
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      statements += 1;
      return query(...args);
    }) as typeof client.query;
  });
  return {
    db: drizzle(pool, { schema }),
    uncounted: drizzle(checks, { schema }),
    statements: () => statements,
    close: async () => {
      await pool.end();
      await checks.end();
    },
  };
}
