// The compose project's .env as the test edits it: the same KEY=value lines an operator edits by hand.
import { readFile, writeFile } from 'node:fs/promises';

/** Values by key; a key set twice keeps its last value, as Compose reads it. */
export async function readEnvFile(file: string): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) values.set(match[1], match[2] ?? '');
  }
  return values;
}

/** Sets each key in place of its line (appended when absent), keeping comments, order and mode 600. */
export async function setEnvValues(file: string, values: Record<string, string | number>): Promise<void> {
  const pending = new Map(Object.entries(values).map(([key, value]) => [key, String(value)]));
  const lines = (await readFile(file, 'utf8')).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = lines.map((line) => {
    const key = /^([A-Z0-9_]+)=/.exec(line)?.[1];
    const value = key === undefined ? undefined : pending.get(key);
    if (key === undefined || value === undefined) return line;
    pending.delete(key);
    return `${key}=${value}`;
  });
  for (const [key, value] of pending) out.push(`${key}=${value}`);
  await writeFile(file, `${out.join('\n')}\n`, { mode: 0o600 });
}

/** Reads one key that must be set. */
export async function requireEnvValue(file: string, key: string): Promise<string> {
  const value = (await readEnvFile(file)).get(key);
  if (value === undefined || value === '' || value === 'CHANGE_ME') throw new Error(`${file}: ${key} is not set`);
  return value;
}
