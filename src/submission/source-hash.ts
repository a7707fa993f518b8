import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) over files sorted by path: for each, its UTF-8 path, a NUL, its byte length in decimal,
 * a NUL, then its bytes. The lengths keep file boundaries unambiguous. Modes and dates are left out,
 * so the same autograder hashes the same whichever way it was zipped.
 */
export function hashFiles(files: ReadonlyMap<string, Uint8Array>): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) {
    const content = files.get(path) ?? new Uint8Array();
    hash.update(`${path}\0${content.length}\0`, 'utf8');
    hash.update(content);
  }
  return hash.digest('hex');
}
