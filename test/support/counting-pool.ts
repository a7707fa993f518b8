import type pg from 'pg';
import { connectDatabase } from '../../src/db/client.js';

export interface CountingPool {
  pool: pg.Pool;
  /** The text of each statement sent since the last `reset` (a named statement by its text): one per round trip. */
  sent: string[];
  reset(): void;
}

/**
 * A pool of one connection that records every statement it sends, for tests that count round trips. One
 * connection, so a transaction a failed step leaves open breaks the next query instead of hiding on another.
 * The pool is `connectDatabase`'s, so a server ending its idle connection (a forced drop) is not a crash.
 */
export function createCountingPool(url: string): CountingPool {
  const counting: CountingPool = {
    pool: connectDatabase(url, { maxConnections: 1 }).pool,
    sent: [],
    reset: () => {
      counting.sent = [];
    },
  };
  counting.pool.on('connect', (client) => {
    // Every round trip, pool.query included, goes through the client's query method.
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    Object.assign(client, {
      query: (...args: unknown[]) => {
        const [first] = args;
        counting.sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
        return send(...args);
      },
    });
  });
  return counting;
}
