import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../config/config.js';
import { surviveLostConnections, type Database } from '../db/client.js';
import * as schema from '../db/schema.js';
import { CliError, networkFailure, redactUrl } from './errors.js';

/** A query command gives up on an unreachable server after this long instead of hanging. */
const CONNECT_TIMEOUT_MS = 5_000;

/** SQLSTATE codes an operator can act on, and what to tell them. */
const sqlStateHints: Record<string, (where: string) => string> = {
  '28P01': (where) => `PostgreSQL at ${where} refused the password (check DATABASE_URL)`,
  '28000': (where) => `PostgreSQL at ${where} refused the login (check DATABASE_URL)`,
  '3D000': (where) => `database ${where} does not exist (check DATABASE_URL)`,
  '42P01': (where) =>
    `database ${where} has no GreenGrader tables yet: start \`greengrader up\` or a worker once to create them`,
  '42703': (where) =>
    `database ${where} has an older GreenGrader schema: start a worker of this version once to migrate it`,
};

/**
 * Runs `action` on a small read/write pool that is closed afterwards. The CLI's query commands never
 * migrate: they read what the workers wrote. Connection and schema problems become one-line CliErrors.
 */
export async function withDatabase<T>(config: Config, action: (db: Database) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: 2,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // The query in flight reports a lost server; the command does not crash on it.
  surviveLostConnections(pool);
  try {
    return await action(drizzle(pool, { schema }));
  } catch (error) {
    throw databaseFailure(error, config.DATABASE_URL);
  } finally {
    await pool.end();
  }
}

/** Turns a driver error into a CliError naming the server; leaves other errors as they are. */
function databaseFailure(error: unknown, url: string): unknown {
  if (error instanceof CliError) return error;
  const where = redactUrl(url);
  // drizzle wraps driver errors ("Failed query: <sql>") with the driver's error as the cause.
  const driverError = error instanceof DrizzleQueryError ? error.cause : error;
  const network = networkFailure(driverError);
  if (network !== null) return new CliError(`cannot reach PostgreSQL at ${where}: ${network}`, 1, { cause: error });
  const code = sqlStateOf(driverError);
  const hint = code === undefined ? undefined : sqlStateHints[code];
  if (hint) return new CliError(hint(where), 1, { cause: error });
  if (driverError instanceof pg.DatabaseError) {
    return new CliError(`PostgreSQL at ${where}: ${driverError.message}`, 1, { cause: error });
  }
  return error;
}

function sqlStateOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code)
    ? error.code
    : undefined;
}
