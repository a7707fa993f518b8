// Looks for personal data in stored text however it is spelt: escaped, accented, NFC or NFD, any case.
import type pg from 'pg';
import { readZipSafely } from '../../src/submission/read-zip-safely.js';
import { decodeText } from '../../src/submission/text-codec.js';

/** Guards for unzipping what the sweep reads back; far above what the sweep's zip holds. */
const LIMITS = { maxEntries: 1000, maxUncompressedBytes: 64 * 1024 * 1024 };
/** Zips inside stored zips are opened this deep at most. */
const MAX_DEPTH = 5;

/** One place searched: a path or column, and its text. */
export interface SearchedText {
  where: string;
  text: string;
}

/**
 * Every text a stored zip holds: each path, and each file decoded as text (a nested zip is opened in
 * turn), so a leak in a name, a Latin-1 file or a zip in a zip is seen.
 */
export async function textsOfZip(bytes: Uint8Array, where: string, depth = 0): Promise<SearchedText[]> {
  const entries = await readZipSafely(bytes, LIMITS);
  const texts: SearchedText[] = [{ where: `${where} (root folder)`, text: entries.rootPrefix }];
  for (const [path, content] of entries.files) {
    const at = `${where}!${path}`;
    texts.push({ where: `${at} (path)`, text: path });
    if (depth < MAX_DEPTH && content[0] === 0x50 && content[1] === 0x4b) {
      texts.push(...(await textsOfZip(content, at, depth + 1)));
    } else {
      texts.push({ where: at, text: decodeText(content)?.text ?? Buffer.from(content).toString('latin1') });
      // Read leniently as UTF-8 too: a UTF-8 name in a file that fell back to Latin-1 shows only this way.
      texts.push({ where: `${at} (as UTF-8)`, text: new TextDecoder().decode(content) });
    }
  }
  return texts;
}

/** Text as the sweep compares it: escapes decoded, accents and case folded away. */
export function foldForSearch(text: string): string {
  return text
    .replace(/\\u([0-9a-f]{4})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, decimal: string) => String.fromCodePoint(parseInt(decimal, 10)))
    .replace(/&([a-z])(?:uml|acute|grave|circ|tilde|ring|cedil);/gi, '$1')
    .replace(/%40/gi, '@')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();
}

/** The needles found in any text, as "needle in where" lines. */
export function findNeedles(texts: readonly SearchedText[], needles: readonly string[]): string[] {
  const folded = needles.map(foldForSearch);
  const found: string[] = [];
  for (const { where, text } of texts) {
    const haystack = foldForSearch(text);
    for (const needle of folded) if (haystack.includes(needle)) found.push(`${needle} in ${where}`);
  }
  return found;
}

/** Every row of every table, as JSON text (bytea renders as hex there). */
export async function textsOfTables(database: { pool: pg.Pool }): Promise<SearchedText[]> {
  const { rows: tables } = await database.pool.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  );
  const texts: SearchedText[] = [];
  for (const { name } of tables) {
    const { rows } = await database.pool.query<{ row: string }>(`select row_to_json(t)::text as row from "${name}" t`);
    texts.push(...rows.map(({ row }, index) => ({ where: `${name} row ${index}`, text: row })));
  }
  return texts;
}

/** Every bytea column, unzipped recursively (a null column, such as a dropped original, is skipped). */
export async function textsOfStoredZips(database: { pool: pg.Pool }): Promise<SearchedText[]> {
  const { rows: columns } = await database.pool.query<{ table: string; column: string }>(
    `select table_name as table, column_name as column from information_schema.columns where table_schema = 'public' and data_type = 'bytea'`,
  );
  const texts: SearchedText[] = [];
  for (const { table, column } of columns) {
    const { rows } = await database.pool.query<{ bytes: Buffer | null }>(`select "${column}" as bytes from "${table}"`);
    for (const [index, { bytes }] of rows.entries()) {
      if (bytes === null) continue;
      texts.push(...(await textsOfZip(new Uint8Array(bytes), `${table}.${column} row ${index}`)));
    }
  }
  return texts;
}
