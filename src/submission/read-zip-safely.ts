import JSZip from 'jszip';
import { InvalidSubmissionError } from './errors.js';
import { findRootPrefix } from './find-root.js';
import { inflateWithinBudget } from './inflate-within-budget.js';
import { declaredEntryOf, entryKindOf, originalNameOf, permissionsOf, unsafePathProblem } from './zip-entry-checks.js';
import { entryLabel } from './entry-label.js';

/** Bounds on what an untrusted zip may expand to. */
export interface ZipLimits {
  /** Most entries (files and folders) the zip may list. */
  maxEntries: number;
  /** Most bytes all kept files may inflate to, together. */
  maxUncompressedBytes: number;
  /** Most bytes a single file may inflate to; defaults to `maxUncompressedBytes`. */
  maxEntryBytes?: number;
}

/** The regular files of a zip, with the root folder stripped from their paths. */
export interface ZipEntries {
  /** File contents by path relative to `rootPrefix`, in sorted path order; folders are not listed. */
  files: Map<string, Uint8Array>;
  /** Unix permission bits (e.g. 0o755) of the files whose zip recorded them, by the same paths. */
  modes: Map<string, number>;
  /** Folder the tree sat in inside the zip: '' or a path ending in '/', e.g. 'gradescope_data/'. */
  rootPrefix: string;
  /** Files outside `rootPrefix` (e.g. `__MACOSX/…`), left out and never inflated. */
  ignoredPaths: string[];
}

/**
 * Opens an untrusted zip without trusting it: rejects unsafe names, links and special files before
 * inflating anything, checks declared sizes, then inflates file by file while counting real bytes,
 * so a zip bomb is stopped after at most one extra chunk past the limit.
 */
export async function readZipSafely(bytes: Uint8Array, limits: ZipLimits): Promise<ZipEntries> {
  const zip = await loadZip(bytes);
  const entries = Object.values(zip.files);
  if (entries.length > limits.maxEntries) {
    throw new InvalidSubmissionError(
      'too-many-entries',
      `The zip lists ${entries.length} entries; at most ${limits.maxEntries} are allowed.`,
    );
  }

  const regularFiles = new Map<string, JSZip.JSZipObject>();
  for (const entry of entries) {
    const name = originalNameOf(entry);
    const problem = unsafePathProblem(name);
    if (problem !== null) {
      throw new InvalidSubmissionError('path-traversal', `Zip ${entryLabel(name)} ${problem}.`);
    }
    const kind = entryKindOf(entry);
    if (kind === 'symlink') {
      throw new InvalidSubmissionError('symlink', `Zip ${entryLabel(name)} is a symbolic link.`);
    }
    if (kind === 'special') {
      throw new InvalidSubmissionError('special-file', `Zip ${entryLabel(name)} is not a regular file.`);
    }
    if (kind === 'file') regularFiles.set(name, entry);
  }

  const rootPrefix = findRootPrefix(regularFiles.keys());
  const kept = [...regularFiles].filter(([name]) => name.startsWith(rootPrefix)).sort(byName);
  const ignoredPaths = [...regularFiles.keys()].filter((name) => !name.startsWith(rootPrefix)).sort();
  const maxEntryBytes = Math.min(limits.maxEntryBytes ?? Infinity, limits.maxUncompressedBytes);
  checkDeclaredSizes(kept, maxEntryBytes, limits.maxUncompressedBytes);

  const files = new Map<string, Uint8Array>();
  const modes = new Map<string, number>();
  let inflatedBytes = 0;
  for (const [name, entry] of kept) {
    const budget = Math.min(maxEntryBytes, limits.maxUncompressedBytes - inflatedBytes);
    const content = await inflateWithinBudget(entry, name, budget);
    inflatedBytes += content.length;
    const path = name.slice(rootPrefix.length);
    files.set(path, content);
    const mode = permissionsOf(entry);
    if (mode !== null) modes.set(path, mode);
  }
  return { files, modes, rootPrefix, ignoredPaths };
}

async function loadZip(bytes: Uint8Array): Promise<JSZip> {
  try {
    // CRCs are checked while inflating below; jszip's own check would inflate everything unbounded.
    return await JSZip.loadAsync(bytes, { checkCRC32: false, createFolders: false });
  } catch (error) {
    throw classifyLoadError(bytes, error);
  }
}

const LOCAL_FILE_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const EMPTY_ZIP_SIGNATURE = [0x50, 0x4b, 0x05, 0x06];

function classifyLoadError(bytes: Uint8Array, error: unknown): InvalidSubmissionError {
  const detail = withoutEntryName(error instanceof Error ? error.message : String(error));
  const startsWith = (signature: number[]) => signature.every((byte, index) => bytes[index] === byte);
  if (!startsWith(LOCAL_FILE_SIGNATURE) && !startsWith(EMPTY_ZIP_SIGNATURE)) {
    return new InvalidSubmissionError('not-a-zip', `The payload is not a zip file (${detail}).`);
  }
  // A zip starts with its files and ends with its directory, so a cut-off zip loses the directory.
  if (/end of central directory|end of data reached|missing \d+ bytes/i.test(detail)) {
    return new InvalidSubmissionError('truncated-zip', `The zip is cut short (${detail}).`);
  }
  return new InvalidSubmissionError('corrupt-zip', `The zip is corrupt (${detail}).`);
}

/**
 * jszip names the entry in some messages ("… unknown (inner file : jane_doe_hw1.py)"), and a reason is stored,
 * logged and shown in Temporal before anything is anonymised: the name goes, the rest of the message stays. The
 * original error is not kept as the cause for the same reason.
 */
function withoutEntryName(message: string): string {
  return message.replace(/\s*\(inner file\s*:[\s\S]*$/i, ' (in one of its entries)');
}

function byName([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkDeclaredSizes(
  entries: [string, JSZip.JSZipObject][],
  maxEntryBytes: number,
  maxUncompressedBytes: number,
): void {
  let total = 0;
  for (const [name, entry] of entries) {
    const size = declaredEntryOf(entry)?.uncompressedSize ?? 0;
    total += size;
    if (size > maxEntryBytes) {
      throw new InvalidSubmissionError(
        'too-large-uncompressed',
        `Zip ${entryLabel(name)} declares ${size} bytes; at most ${maxEntryBytes} are allowed per file.`,
      );
    }
    if (total > maxUncompressedBytes) {
      throw new InvalidSubmissionError(
        'too-large-uncompressed',
        `The zip declares more than ${maxUncompressedBytes} uncompressed bytes, the most allowed.`,
      );
    }
  }
}
