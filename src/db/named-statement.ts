import { fillPlaceholders, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';

const dialect = new PgDialect();

/** Where a named statement runs: the pool (any connection) or one connection inside a transaction. */
export type StatementTarget = pg.Pool | pg.PoolClient;

/**
 * A hot-path statement, built once from drizzle's `sql` with `sql.placeholder(...)` for its values and sent under
 * its name: the client never builds its text again, and PostgreSQL parses and plans it once per connection (pg
 * prepares a name on each pooled connection the first time that connection sends it). Names must be unique per
 * text across the process: pg refuses one name with two texts on a connection.
 */
export function namedStatement<R extends pg.QueryResultRow, V extends Record<string, unknown>>(
  name: string,
  statement: SQL,
): (target: StatementTarget, values: V) => Promise<pg.QueryResult<R>> {
  const { sql: text, params } = dialect.sqlToQuery(statement);
  return (target, values) => target.query<R>({ name, text, values: fillPlaceholders(params, values) });
}
