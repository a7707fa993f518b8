// Values written into statement text, for the reservation ledger's multi-statement queries (PostgreSQL takes
// several statements in one round trip only without bind parameters). Written directly rather than rendered from
// drizzle templates with inlined parameters: that rendering took 0.14–0.24 ms per round trip here, against about
// 0.01 ms this way, on a path held to 5 ms per plan. Strings are escaped by node-postgres; numbers are truncated
// (as the ledger's arrays were before) and must then be safe integers, so no value can end its literal.
import pg from 'pg';

export function textLiteral(value: string): string {
  return pg.escapeLiteral(value);
}

/** `value` truncated to an integer; anything that is not then a safe integer (NaN, ±Infinity, 2^53) is refused. */
export function integerLiteral(value: number): string {
  const integer = Math.trunc(value);
  if (!Number.isSafeInteger(integer)) throw new TypeError(`not an integer for SQL: ${String(value)}`);
  return String(integer);
}

export function textArrayLiteral(values: readonly string[]): string {
  return `array[${values.map(textLiteral).join(', ')}]::text[]`;
}

export function integerArrayLiteral(values: readonly number[], type: 'integer' | 'bigint'): string {
  return `array[${values.map(integerLiteral).join(', ')}]::${type}[]`;
}

/** A nullable value's literal with its type: `NULL::type` for null. */
export function typedLiteral(literal: string | null, type: string): string {
  return `${literal ?? 'NULL'}::${type}`;
}
