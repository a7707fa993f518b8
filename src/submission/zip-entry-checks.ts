import type JSZip from 'jszip';

/** What a zip entry is, judged from its Unix mode when the zip was made on Unix. */
export type EntryKind = 'file' | 'directory' | 'symlink' | 'special';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Why `name` could escape or confuse the extraction folder, or null when it is a plain relative path. */
export function unsafePathProblem(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) return 'has a ".." segment';
  // jszip silently normalises these, so two different names could land on one path.
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or "." segment';
  return null;
}

/** The entry's name as stored in the zip: jszip rewrites `../x` to `x` and keeps the original aside. */
export function originalNameOf(entry: JSZip.JSZipObject): string {
  return entry.unsafeOriginalName ?? entry.name;
}

/** Kind of entry; zips made on DOS carry no Unix mode, so only the directory flag counts there. */
export function entryKindOf(entry: JSZip.JSZipObject): EntryKind {
  if (entry.dir) return 'directory';
  const mode = unixModeOf(entry);
  if (mode === null) return 'file';
  switch (mode & S_IFMT) {
    case 0: // some zip tools store permission bits only
    case S_IFREG:
      return 'file';
    case S_IFDIR:
      return 'directory';
    case S_IFLNK:
      return 'symlink';
    default:
      return 'special';
  }
}

/** Permission bits (0o7777) recorded for the entry, or null when the zip did not record Unix modes. */
export function permissionsOf(entry: JSZip.JSZipObject): number | null {
  const mode = unixModeOf(entry);
  return mode === null ? null : mode & 0o7777;
}

function unixModeOf(entry: JSZip.JSZipObject): number | null {
  const mode = entry.unixPermissions;
  if (typeof mode === 'number') return mode;
  if (typeof mode === 'string' && /^[0-7]+$/.test(mode)) return parseInt(mode, 8);
  return null;
}

/** Sizes and checksum the zip's central directory declares for an entry. */
export interface DeclaredEntry {
  uncompressedSize: number;
  crc32: number;
}

/**
 * Reads the central-directory size and CRC of a loaded entry without inflating it.
 * jszip keeps them only on the private `_data` (a CompressedObject) and has no public accessor,
 * so this probes the shape and returns null if a future jszip stores them differently.
 */
export function declaredEntryOf(entry: JSZip.JSZipObject): DeclaredEntry | null {
  const data: unknown = Reflect.get(entry, '_data');
  if (typeof data !== 'object' || data === null) return null;
  const uncompressedSize: unknown = Reflect.get(data, 'uncompressedSize');
  const crc32: unknown = Reflect.get(data, 'crc32');
  if (typeof uncompressedSize !== 'number' || typeof crc32 !== 'number') return null;
  if (!Number.isSafeInteger(uncompressedSize) || uncompressedSize < 0) return null;
  return { uncompressedSize, crc32: crc32 >>> 0 };
}
