import { DrizzleQueryError } from 'drizzle-orm/errors';
import pg from 'pg';

/**
 * A database failure told without the values involved. drizzle renders every parameter into its message
 * ("Failed query: … params: <the whole raw zip>"), and PostgreSQL's own message and detail may quote a value
 * ('invalid input syntax for type uuid: "…"', 'Key (sha256)=(…) already exists'): neither may reach a log
 * line, an activity failure or Temporal's history, where payload bytes and student data would stay for good.
 */
class DatabaseQueryError extends Error {
  override readonly name = 'DatabaseQueryError';
  /** PostgreSQL's SQLSTATE, or the socket's error code (ECONNREFUSED, …) when the server was not reached. */
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/** How much of the statement an error keeps: enough to tell which query, never a multi-row insert in full. */
const STATEMENT_CHARS = 160;

/** Class names for the SQLSTATEs seen in operation; others are told by their code alone. */
const conditions: Record<string, string> = {
  '23505': 'unique violation',
  '23503': 'foreign key violation',
  '23502': 'not-null violation',
  '23514': 'check violation',
  '22P02': 'invalid text representation',
  '22001': 'value too long',
  '22003': 'numeric value out of range',
  '22008': 'datetime field overflow',
  '22021': 'invalid byte sequence',
  '22P05': 'untranslatable character',
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '57P01': 'server shutting down',
  '53300': 'too many connections',
  '3D000': 'database does not exist',
  '28P01': 'password authentication failed',
};

/**
 * True for PostgreSQL's data exceptions (SQLSTATE class 22: a value out of range, unrepresentable or malformed for
 * its column): the same values fail the same way every time, so retrying cannot help.
 */
export function isDataException(error: unknown): boolean {
  const cause = error instanceof DrizzleQueryError ? error.cause : error;
  if (!(cause instanceof pg.DatabaseError) || cause.code === undefined) return false;
  // Not these two: storable-text.ts removes what causes them in a UTF-8 database, so they mean a database created
  // with another encoding, a set-up mistake to fix and retry, not a payload to give up on.
  return cause.code.startsWith('22') && !ENCODING_ERRORS.has(cause.code);
}
const ENCODING_ERRORS = new Set(['22021', '22P05']);

/**
 * Replaces a drizzle or PostgreSQL error by a DatabaseQueryError that names the statement's start, the
 * SQLSTATE and the table, constraint and column concerned, but no value. Anything else is returned as it is.
 */
export function redactDatabaseError(error: unknown): unknown {
  if (error instanceof DatabaseQueryError) return error;
  if (error instanceof DrizzleQueryError) return describe(error.cause, statementStart(error.query));
  if (error instanceof pg.DatabaseError) return describe(error, null);
  return error;
}

function describe(cause: unknown, statement: string | null): DatabaseQueryError {
  const query = statement === null ? '' : ` (${statement})`;
  if (cause instanceof pg.DatabaseError) {
    const code = cause.code;
    const condition = code === undefined ? 'error' : (conditions[code] ?? 'error');
    const where = [
      cause.table && `table ${cause.table}`,
      cause.column && `column ${cause.column}`,
      cause.constraint && `constraint ${cause.constraint}`,
    ].filter(Boolean);
    const place = where.length > 0 ? ` on ${where.join(', ')}` : '';
    return new DatabaseQueryError(`database ${condition} [${code ?? 'no SQLSTATE'}]${place}${query}`, code);
  }
  // Not PostgreSQL's answer: the connection itself (refused, reset, timed out), whose message holds no value.
  const code = errorCode(cause);
  const reason = cause instanceof Error ? cause.message.slice(0, STATEMENT_CHARS) : 'no driver error';
  return new DatabaseQueryError(`database unreachable or connection lost: ${reason}${query}`, code);
}

function statementStart(query: string): string {
  const oneLine = query.replace(/\s+/g, ' ').trim();
  return oneLine.length <= STATEMENT_CHARS ? oneLine : `${oneLine.slice(0, STATEMENT_CHARS)}…`;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
