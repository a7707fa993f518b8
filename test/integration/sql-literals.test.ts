// The ledger writes its values into statement text (src/db/sql-literals.ts): what PostgreSQL reads back must be
// exactly the value, whatever the string holds, and a number that is not an integer must never reach the text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import {
  integerArrayLiteral,
  integerLiteral,
  textArrayLiteral,
  textLiteral,
  typedLiteral,
} from '../../src/db/sql-literals.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';

const AWKWARD = ['node-1', "it's", 'back\\slash', "'; drop table grading_runs; --", 'dollar $$ quote', 'ünï ☃', ''];

describe('values written into statement text', () => {
  let database: MigratedDatabase;
  before(async () => {
    database = await createMigratedDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  async function read<T>(expression: string): Promise<T> {
    const { rows } = await database.db.execute<{ value: T }>(sql.raw(`select ${expression} as value`));
    return rows[0]!.value;
  }

  it('reads back every string and array of strings exactly', async () => {
    for (const value of AWKWARD) assert.equal(await read<string>(textLiteral(value)), value);
    assert.deepEqual(await read<string[]>(textArrayLiteral(AWKWARD)), AWKWARD);
    assert.deepEqual(await read<string[]>(textArrayLiteral([])), []);
  });

  it('writes integers, arrays of them and typed nulls', async () => {
    assert.equal(await read<number>(`${integerLiteral(-42.9)}::integer`), -42);
    assert.deepEqual(await read<number[]>(integerArrayLiteral([1, 2.5, 300_000], 'integer')), [1, 2, 300_000]);
    assert.deepEqual(await read<string[]>(integerArrayLiteral([2 ** 40], 'bigint')), [String(2 ** 40)]);
    assert.equal(await read<string | null>(typedLiteral(null, 'timestamptz')), null);
  });

  it('refuses numbers that are not safe integers', () => {
    for (const bad of [NaN, Infinity, -Infinity, 2 ** 53]) assert.throws(() => integerLiteral(bad), TypeError);
    assert.throws(() => integerArrayLiteral([1, NaN], 'integer'), TypeError);
  });
});
