import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres } from '../../src/services/index.js';
import { createCountingDatabase } from '../support/counting-database.js';
import { createCountingPool } from '../support/counting-pool.js';
import { requireEnv } from '../support/env.js';
import { createFreshDatabase } from '../support/fresh-database.js';
import { waitFor } from '../support/wait-for.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a fresh test database', () => {
  it('is created empty, usable, and gone after drop even with a client still connected', async () => {
    const adminUrl = requireEnv('DATABASE_URL');
    const fresh = await createFreshDatabase(adminUrl);
    assert.match(fresh.name, /^gg_test_[0-9a-f]{12}$/);
    await query(fresh.url, 'create table t (n int); insert into t values (7)');
    assert.deepEqual(await query(fresh.url, 'select n from t'), [{ n: 7 }]);

    const leftOpen = new pg.Client({ connectionString: fresh.url });
    leftOpen.on('error', () => undefined); // the forced drop terminates it
    await leftOpen.connect();
    await fresh.drop();
    await fresh.drop();
    const remaining = await query(adminUrl, `select 1 from pg_database where datname = '${fresh.name}'`);
    assert.equal(remaining.length, 0);
    await leftOpen.end().catch(() => undefined);
  });
});

describe("the tests' own pools", () => {
  // A forced drop right after `close` can end a connection the pool is still closing: that must not crash a test file.
  it('outlive the server ending their idle connections, and reconnect', async () => {
    const adminUrl = requireEnv('DATABASE_URL');
    const fresh = await createFreshDatabase(adminUrl);
    const counting = createCountingDatabase(fresh.url);
    const single = createCountingPool(fresh.url);
    const pools = [counting.db.$client, counting.uncounted.$client, single.pool];
    try {
      for (const pool of pools) await pool.query('select 1');
      assert.deepEqual(
        pools.map((pool) => pool.idleCount),
        [1, 1, 1],
      );
      await query(adminUrl, `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${fresh.name}'`);
      await waitFor(() => pools.every((pool) => pool.totalCount === 0), {
        description: 'every pool to see its connection ended',
      });
      for (const pool of pools) assert.deepEqual((await pool.query('select 1 as n')).rows, [{ n: 1 }]);
    } finally {
      await counting.close();
      await single.pool.end();
      await fresh.drop();
    }
  });
});

describe('the PostgreSQL launcher', () => {
  it('restarts a stopped cluster on its data directory with the data kept and a password required', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gg-postgres-test-'));
    try {
      const first = await startPostgres({
        dataDir: path.join(dir, 'data'),
        fsync: false,
        password: 'pw:with@odd/chars',
      });
      await query(first.url, 'create table kept (n int); insert into kept values (1)');
      await first.stop();
      await first.stop();

      const second = await startPostgres({ dataDir: first.dataDir, password: 'pw:with@odd/chars' });
      try {
        assert.deepEqual(await query(second.url, 'select n from kept'), [{ n: 1 }]);
        const wrong = second.url.replace(encodeURIComponent('pw:with@odd/chars'), 'wrong');
        await assert.rejects(query(wrong, 'select 1'), /password authentication failed/);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops trusting TCP logins once a cluster first started without a password is given one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gg-postgres-test-'));
    try {
      const trusting = await startPostgres({ dataDir: path.join(dir, 'data'), fsync: false });
      const anyPassword = trusting.url.replace('postgres@', 'postgres:anything@');
      assert.deepEqual(await query(anyPassword, 'select 1 as n'), [{ n: 1 }], 'trust ignores the password');
      await trusting.stop();

      const guarded = await startPostgres({ dataDir: trusting.dataDir, fsync: false, password: 'now-required' });
      try {
        assert.deepEqual(await query(guarded.url, 'select 1 as n'), [{ n: 1 }]);
        await assert.rejects(
          query(anyPassword.replace(`:${trusting.port}/`, `:${guarded.port}/`), 'select 1'),
          /password authentication failed/,
        );
      } finally {
        await guarded.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
