import { anonymiseMetadataFile } from './anonymise-metadata.js';
import { detectContent, type DetectedContent } from './detect-content.js';
import { InvalidSubmissionError } from './errors.js';
import { ROOT_MARKER } from './find-root.js';
import { readZipSafely } from './read-zip-safely.js';
import { isJsonPath, scrubJsonText } from './scrub-json.js';
import { createScrubber, type Scrubber, type StudentIdentity } from './scrub-text.js';
import { stripNotebookImages } from './strip-notebook-images.js';
import { decodeText, encodeText } from './text-codec.js';
import { writeZip } from './write-zip.js';

/** Paths inside the Gradescope tree (after the root folder is stripped). */
export const METADATA_PATH = ROOT_MARKER;
export const SUBMISSION_DIR = 'autograder/submission/';
export const RESULTS_DIR = 'autograder/results/';

/** A run of printable ASCII, as `strings` finds the text a program stored. */
const PRINTABLE_RUN = /[\t\x20-\x7e]{6,}/g;
/**
 * The same in a UTF-16 view, with the accented Latin letters: random bytes read as UTF-16 are mostly CJK letters, which
 * would make every stretch of them a run, while names stored as UTF-16 (file names in desktop metadata) are text.
 */
const PRINTABLE_UTF16_RUN = /[\t\x20-\x7e\xc0-\u024f]{6,}/g;

/** Zips inside zips are opened this deep at most; deeper ones are replaced. */
const MAX_ARCHIVE_DEPTH = 3;

/** What anonymisation needs besides the files. */
export interface AnonymiseOptions {
  /** Key of the HMAC that turns Gradescope user ids into pseudonyms (see pseudonymOf). */
  pseudonymKey: Uint8Array;
  /** What nested zips may still expand to, after the outer zip's own files. */
  nestedBudget: { maxEntries: number; maxUncompressedBytes: number };
}

/** What anonymisation did; stored with the submission, so it names no file. */
export interface AnonymisationReport {
  /** Submitters whose name, email, sid and id were replaced. */
  usersAnonymised: number;
  /** Text files whose content was rewritten (the metadata file is not counted). */
  filesChanged: number;
  /** Files or folders renamed because their path held personal data. */
  pathsRenamed: number;
  /**
   * PDFs, office files, images and binary files holding a submitter's data, replaced by a placeholder text file
   * (or, in a notebook, a placeholder line).
   */
  documentsReplaced: number;
  /** Zips inside the zip that were opened and anonymised in turn. */
  archivesAnonymised: number;
  /** Archives replaced by a placeholder: other formats, too deep, over budget or unreadable. */
  archivesReplaced: number;
}

/** The report of a tree kept as it came. */
export const NOTHING_ANONYMISED: Readonly<AnonymisationReport> = {
  usersAnonymised: 0,
  filesChanged: 0,
  pathsRenamed: 0,
  documentsReplaced: 0,
  archivesAnonymised: 0,
  archivesReplaced: 0,
};

/** A file tree after anonymisation. */
export interface AnonymisedTree {
  files: Map<string, Uint8Array>;
  /** Permission bits, under the new paths. */
  modes: Map<string, number>;
  /** Root folder of the zip, scrubbed too. */
  rootPrefix: string;
  report: AnonymisationReport;
  /** The scrubber used, for text about the tree kept elsewhere (warnings naming paths). */
  scrub: Scrubber;
}

interface TreeInput {
  files: ReadonlyMap<string, Uint8Array>;
  modes: ReadonlyMap<string, number>;
  rootPrefix: string;
}

/**
 * Anonymises every file of the tree, whatever folder it is in (the autograder copies student files into
 * `autograder/source/`, Gradescope keeps its own under `gradescope/`):
 * - text (UTF-8, UTF-16 with BOM, else Latin-1) is scrubbed of every submitter's name, email and sid in
 *   all spellings `variantsOf` knows, JSON after decoding its escapes, and written back in its encoding;
 * - paths are scrubbed with the same scrubber, so `jane_doe_hw1.py` and `import jane_doe_hw1` stay in step;
 * - documents (PDF, office files, images: by content, not by name) become a placeholder text file at the
 *   same path, since they cannot be scrubbed and a grader that looks for the file still finds one; images in
 *   notebook outputs are removed likewise;
 * - zips (also jars, which graders ship) are anonymised recursively within the unzip budget; other
 *   archives (tar, gzip, 7z, …) become placeholders, since no reader here bounds their expansion;
 * - the metadata's users get pseudonymous ids and tokens, and lose their per-student dates.
 * Other binary files (compiled code, data) are kept byte for byte, unless a printable string in them (ASCII or
 * UTF-16) spells a submitter's email, full name, login or sid (binaryHoldsIdentity): then they become a placeholder.
 */
export async function anonymiseTree(
  tree: TreeInput,
  identities: readonly StudentIdentity[],
  options: AnonymiseOptions,
): Promise<AnonymisedTree> {
  const report: AnonymisationReport = { ...NOTHING_ANONYMISED, usersAnonymised: identities.length };
  const budget = { ...options.nestedBudget };
  const scrub = createScrubber(identities);
  const findInBinary = createScrubber(identities, { binary: true });
  const context: WalkContext = { scrub, findInBinary, report, budget, pseudonymKey: options.pseudonymKey };
  return walk(tree, context, 0);
}

interface WalkContext {
  scrub: Scrubber;
  /** The scrubber for binary content: only spellings no ordinary word or number spells. */
  findInBinary: Scrubber;
  report: AnonymisationReport;
  budget: { maxEntries: number; maxUncompressedBytes: number };
  pseudonymKey: Uint8Array;
}

async function walk(tree: TreeInput, context: WalkContext, depth: number): Promise<AnonymisedTree> {
  const files = new Map<string, Uint8Array>();
  const modes = new Map<string, number>();
  for (const [path, content] of tree.files) {
    const newPath = uniquePath(depth === 0 && path === METADATA_PATH ? path : context.scrub(path), files);
    if (newPath !== path) context.report.pathsRenamed++;
    files.set(newPath, await anonymiseFile(path, content, context, depth));
    const mode = tree.modes.get(path);
    if (mode !== undefined) modes.set(newPath, mode);
  }
  return { files, modes, rootPrefix: context.scrub(tree.rootPrefix), report: context.report, scrub: context.scrub };
}

async function anonymiseFile(
  path: string,
  content: Uint8Array,
  context: WalkContext,
  depth: number,
): Promise<Uint8Array> {
  if (depth === 0 && path === METADATA_PATH) return anonymiseMetadataFile(content, context.scrub, context.pseudonymKey);
  const detected = detectContent(content);
  switch (detected.kind) {
    case 'document':
      context.report.documentsReplaced++;
      return placeholder(detected, content, 'it can carry personal data that cannot be scrubbed as text');
    case 'other-archive':
      context.report.archivesReplaced++;
      return placeholder(detected, content, 'archives other than zip are not opened, so it could not be checked');
    case 'zip':
      return anonymiseNestedZip(content, detected, context, depth + 1);
    case 'other':
      return scrubTextFile(path, content, context);
  }
}

/** Returns `content` itself when nothing matched, a placeholder for binary content that holds a submitter's data. */
function scrubTextFile(path: string, content: Uint8Array, context: WalkContext): Uint8Array {
  const decoded = decodeText(content);
  if (decoded === null) {
    if (!binaryHoldsIdentity(content, context.findInBinary)) return content;
    context.report.documentsReplaced++;
    return placeholder(
      { kind: 'other', format: 'binary' },
      content,
      "it held a submitter's name, email or id, which cannot be taken out of compiled or binary data safely",
    );
  }
  const withoutImages = /\.ipynb$/i.test(path) ? stripNotebookImages(decoded.text) : null;
  if (withoutImages !== null) context.report.documentsReplaced++;
  const text = withoutImages ?? decoded.text;
  const scrubbed = looksLikeJson(path, text) ? scrubJsonText(text, context.scrub) : context.scrub(text);
  if (scrubbed === decoded.text) return content;
  context.report.filesChanged++;
  return encodeText(scrubbed, decoded.encoding);
}

/**
 * Whether binary content spells a submitter's name, email or id: compiled code keeps the source's path
 * (`__pycache__/hw1_jane_doe.cpython-311.pyc`, a `.class` file's source name, an executable's debug paths) and
 * desktop metadata keeps names in UTF-16 (`.DS_Store`). Read as bytes and as UTF-16 of either byte order at
 * either alignment, only runs of printable characters count, as `strings` finds them, and only spellings that
 * neither a library's messages nor random bytes spell (the `binary` scrubber): a grader's own compiled files and
 * data stay. Byte strings are ASCII there (a 64 MiB file is read in one or two seconds): names with accents are
 * found in file names' UTF-16, not in a compiled file's UTF-8.
 */
function binaryHoldsIdentity(content: Uint8Array, find: Scrubber): boolean {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const found = (text: string, runs: RegExp) => {
    const strings = text.match(runs)?.join('\n') ?? '';
    return strings !== '' && find(strings) !== strings;
  };
  if (found(bytes.toString('latin1'), PRINTABLE_RUN)) return true;
  for (const offset of [0, 1]) {
    const even = bytes.subarray(offset, offset + ((bytes.length - offset) & ~1));
    if (found(even.toString('utf16le'), PRINTABLE_UTF16_RUN)) return true;
    if (found(Buffer.from(even).swap16().toString('utf16le'), PRINTABLE_UTF16_RUN)) return true;
  }
  return false;
}

function looksLikeJson(path: string, text: string): boolean {
  if (isJsonPath(path)) return true;
  if (!/^\s*[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function anonymiseNestedZip(
  content: Uint8Array,
  detected: DetectedContent,
  context: WalkContext,
  depth: number,
): Promise<Uint8Array> {
  if (depth > MAX_ARCHIVE_DEPTH) {
    context.report.archivesReplaced++;
    return placeholder(detected, content, `zips nested more than ${MAX_ARCHIVE_DEPTH} deep are not opened`);
  }
  let entries;
  try {
    entries = await readZipSafely(content, context.budget);
  } catch (error) {
    if (!(error instanceof InvalidSubmissionError)) throw error;
    context.report.archivesReplaced++;
    return placeholder(detected, content, `it could not be opened safely (${error.reason})`);
  }
  let inflated = 0;
  for (const file of entries.files.values()) inflated += file.length;
  context.budget.maxEntries -= entries.files.size;
  context.budget.maxUncompressedBytes -= inflated;
  const anonymised = await walk(entries, context, depth);
  context.report.archivesAnonymised++;
  return writeZip(anonymised.files, { modes: anonymised.modes, rootPrefix: anonymised.rootPrefix });
}

function placeholder(detected: DetectedContent, content: Uint8Array, why: string): Uint8Array {
  return new TextEncoder().encode(
    `Removed by GreenGrader's anonymisation: this file held ${detected.format} data (${content.length} bytes); ${why}.\n`,
  );
}

/** `path`, or `path` with `-2`, `-3`, … before its extension when scrubbing made two paths equal. */
function uniquePath(path: string, taken: ReadonlyMap<string, unknown>): string {
  if (!taken.has(path)) return path;
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  const split = dot > slash + 1 ? dot : path.length;
  for (let suffix = 2; ; suffix++) {
    const candidate = `${path.slice(0, split)}-${suffix}${path.slice(split)}`;
    if (!taken.has(candidate)) return candidate;
  }
}
