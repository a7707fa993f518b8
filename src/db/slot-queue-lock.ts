import type pg from 'pg';
import { releaseAfterFailure } from './release-after-failure.js';

/**
 * Every claim and queue change runs under this one transaction-scoped advisory lock: reading free slots and the
 * order of the queue, then claiming, is one atomic step, so two workflows racing never book the same slot.
 */
export const SLOT_QUEUE_LOCK = `select pg_advisory_xact_lock(hashtext('greengrader:run-slot-claims'))`;

/**
 * Runs `work` on one pooled connection in a transaction holding the slot queue's lock. `begin` and the lock go in
 * one round trip (a query without parameters may hold several statements), so the lock costs no round trip of its
 * own; `work`'s statements see every change committed before the lock was granted.
 */
export async function underSlotQueueLock<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`begin; ${SLOT_QUEUE_LOCK}`);
    const result = await work(client);
    await client.query('commit');
    client.release();
    return result;
  } catch (error) {
    await releaseAfterFailure(client);
    throw error;
  }
}
