import type pg from 'pg';

/**
 * Gives a connection back after a failed statement. The failure leaves its transaction open (aborted), so it is
 * rolled back first; a connection that cannot roll back is closed instead of going back to the pool.
 */
export async function releaseAfterFailure(client: pg.PoolClient): Promise<void> {
  await client.query('rollback').then(
    () => client.release(),
    (lost: Error) => client.release(lost),
  );
}
