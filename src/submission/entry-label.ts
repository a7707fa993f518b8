import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Names a zip entry in an error or warning without its name, which may carry the student's ("jane_doe_hw1.py"):
 * a short hash of the name and its extension. Failure reasons end up in Temporal's history, memos and logs.
 * An operator finds the entry by hashing the names of the quarantined zip's entries.
 */
export function entryLabel(name: string): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const extension = path.posix.extname(name).slice(0, 12);
  return `entry #${hash}${/^\.[A-Za-z0-9]+$/.test(extension) ? ` (${extension})` : ''}`;
}

/**
 * JSON.parse's message without the excerpt V8 quotes from the text ('Unexpected token 'a', "{"email":"jane.d"...
 * is not valid JSON'): the position and the kind of fault are enough to find it, the excerpt may be a student's.
 */
export function jsonErrorWithoutExcerpt(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/,?\s*(?:\.\.\.)?".*"(?:\.\.\.)?\s+is not valid JSON$/s, ' (excerpt not shown)').slice(0, 200);
}
