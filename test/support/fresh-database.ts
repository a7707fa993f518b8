import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface FreshDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string;
  name: string;
  /** Drops the database, disconnecting any client a test left open. Idempotent. */
  drop: () => Promise<void>;
}

export interface FreshDatabaseOptions {
  /** Copy this database instead of template1, e.g. one migrated once per run (much faster than migrating again). */
  template?: string;
}

/**
 * Creates an empty database `gg_test_<random>` so each test works on its own data. Knows nothing about the
 * schema: tests migrate it (or pass a migrated template).
 */
export async function createFreshDatabase(
  adminUrl: string,
  options: FreshDatabaseOptions = {},
): Promise<FreshDatabase> {
  const name = `gg_test_${randomBytes(6).toString('hex')}`;
  const template = options.template === undefined ? '' : ` TEMPLATE ${quoteIdent(options.template)}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}${template}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () =>
      (dropped ??= withAdmin(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
      )),
  };
}

async function withAdmin(adminUrl: string, action: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await action(client);
  } finally {
    await client.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
