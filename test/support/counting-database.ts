import { connectDatabase, type Database } from '../../src/db/client.js';

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
 * start's bookkeeping costs, so tests and benches bound that count rather than a time. Both pools come from
 * `connectDatabase`, so a server ending an idle connection (a forced drop racing `close`) is not a crash.
 */
export function createCountingDatabase(url: string): CountingDatabase {
  const counted = connectDatabase(url, { maxConnections: 4 });
  const checks = connectDatabase(url, { maxConnections: 2 });
  let statements = 0;
  // Every statement, pool.query's and a transaction's alike, goes through one of the pool's clients.
  counted.pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      statements += 1;
      return query(...args);
    }) as typeof client.query;
  });
  return {
    db: counted.db,
    uncounted: checks.db,
    statements: () => statements,
    close: async () => {
      await counted.close();
      await checks.close();
    },
  };
}
