import {
  anonymiseTree,
  METADATA_PATH,
  NOTHING_ANONYMISED,
  RESULTS_DIR,
  SUBMISSION_DIR,
  type AnonymisationReport,
} from './anonymise.js';
import { describeIssues } from './describe-issues.js';
import { InvalidSubmissionError } from './errors.js';
import { submissionMetadataSchema, type SubmissionMetadata } from './metadata-schema.js';
import { readZipSafely, type ZipLimits } from './read-zip-safely.js';
import { refuseDeepJson } from './json-depth.js';
import { parseResultsJson, type ParsedResults } from './results-schema.js';
import { parseSenderIps } from './sender-ips.js';
import { hashFiles } from './source-hash.js';
import { writeZip } from './write-zip.js';
import { entryLabel, jsonErrorWithoutExcerpt } from './entry-label.js';
import { checkExtractable } from './extractable-paths.js';

/** Paths inside the Gradescope tree (after the root folder is stripped). */
const HOSTNAME_PATH = 'hostname.txt';
const SOURCE_DIR = 'autograder/source/';
const RESULTS_PATH = `${RESULTS_DIR}results.json`;

/** How to read a submission zip. */
export interface ParseSubmissionOptions {
  /** Bounds on what the zip may expand to. */
  limits: ZipLimits;
  /**
   * Replace the students' personal data before anything is kept (the original always did), with the key
   * that makes user ids pseudonymous; false keeps the tree as it came (for re-reading a stored zip).
   */
  anonymise: false | { pseudonymKey: Uint8Array };
}

/** A checked `gradescope_data.zip`, anonymised when asked. */
export interface ParsedSubmission {
  /** submission_metadata.json, checked (and anonymised when asked). */
  metadata: SubmissionMetadata;
  /** Addresses of the Gradescope host that sent the zip, from hostname.txt; [] if it is missing. */
  senderIps: string[];
  /** Gradescope's own results.json; null when absent or malformed (see `warnings`). */
  gradescopeResults: ParsedResults | null;
  /** The instructor's autograder, by path relative to `autograder/source/`, sorted. */
  sourceFiles: Map<string, Uint8Array>;
  /** The student's files (anonymised when asked), by path relative to `autograder/submission/`, sorted. */
  submissionFiles: Map<string, Uint8Array>;
  /** `hashFiles(sourceFiles)`: equal for equal autograders, so images can be reused. */
  sourceHash: string;
  /** The whole tree re-zipped under the same root folder, deterministically; this is what gets stored. */
  anonymisedZip: Uint8Array;
  /** What anonymisation changed (all zeros when it was off). */
  anonymisation: AnonymisationReport;
  /** Things that were odd but not fatal, for the log. */
  warnings: string[];
}

/**
 * Reads an untrusted `gradescope_data.zip` the way the original ingestion did, minus its trust:
 * safe unzip, checked metadata, anonymisation, sender IPs, Gradescope's result and a storable zip.
 * Throws InvalidSubmissionError for anything that cannot be ingested.
 */
export async function parseSubmission(bytes: Uint8Array, options: ParseSubmissionOptions): Promise<ParsedSubmission> {
  const entries = await readZipSafely(bytes, options.limits);

  const original = readMetadata(entries.files);
  const identities = original.users.map(({ name, email, sid }) => ({ name, email, sid }));
  const tree = options.anonymise
    ? await anonymiseTree(entries, identities, {
        pseudonymKey: options.anonymise.pseudonymKey,
        nestedBudget: remainingBudget(entries.files, options.limits),
      })
    : null;
  const files = tree?.files ?? entries.files;
  checkExtractable(files.keys());
  // Paths left out of the tree are named by a hash in the warnings: a path may carry the student's name.
  const warnings = entries.ignoredPaths.map(
    (path) => `Ignored ${entryLabel(path)}: it is outside the submission's root.`,
  );
  const metadata = tree ? readMetadata(files) : original;

  const sourceFiles = subtree(files, SOURCE_DIR);
  if (sourceFiles.size === 0) warnings.push(`No files under ${SOURCE_DIR}: the autograder cannot be rebuilt.`);

  return {
    metadata,
    senderIps: readSenderIps(files, warnings),
    gradescopeResults: readGradescopeResults(files, warnings),
    sourceFiles,
    submissionFiles: subtree(files, SUBMISSION_DIR),
    sourceHash: hashFiles(sourceFiles),
    anonymisedZip: await writeZip(files, {
      modes: tree?.modes ?? entries.modes,
      rootPrefix: tree?.rootPrefix ?? entries.rootPrefix,
    }),
    anonymisation: tree?.report ?? NOTHING_ANONYMISED,
    warnings,
  };
}

/** What a worker node needs of a stored submission to run its grader. */
export type UnpackedSubmission = Pick<ParsedSubmission, 'metadata' | 'sourceFiles' | 'submissionFiles' | 'sourceHash'>;

/**
 * Unpacks a zip that ingestion stored (checked and anonymised already) for a grading run: the same safe unzip,
 * but none of ingestion's own work. Re-zipping the tree alone was most of `parseSubmission`'s CPU here, for a
 * copy nobody kept.
 */
export async function unpackStoredSubmission(bytes: Uint8Array, limits: ZipLimits): Promise<UnpackedSubmission> {
  const { files } = await readZipSafely(bytes, limits);
  const sourceFiles = subtree(files, SOURCE_DIR);
  return {
    metadata: readMetadata(files),
    sourceFiles,
    submissionFiles: subtree(files, SUBMISSION_DIR),
    sourceHash: hashFiles(sourceFiles),
  };
}

/** Reads and checks submission_metadata.json from root-relative files. */
export function readMetadata(files: ReadonlyMap<string, Uint8Array>): SubmissionMetadata {
  const content = files.get(METADATA_PATH);
  if (content === undefined) {
    throw new InvalidSubmissionError('missing-metadata', `The zip has no ${METADATA_PATH}.`);
  }
  const text = new TextDecoder().decode(content);
  refuseDeepJson(text, 'invalid-metadata', METADATA_PATH);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = jsonErrorWithoutExcerpt(error);
    throw new InvalidSubmissionError('invalid-metadata', `${METADATA_PATH} is not valid JSON (${detail}).`, {
      cause: error,
    });
  }
  const parsed = submissionMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const message = `${METADATA_PATH} is malformed: ${describeIssues(parsed.error)}`;
    throw new InvalidSubmissionError('invalid-metadata', message, { cause: parsed.error });
  }
  return parsed.data;
}

/** What zips inside the zip may still expand to: the limits less what the outer zip used. */
function remainingBudget(
  files: ReadonlyMap<string, Uint8Array>,
  limits: ZipLimits,
): { maxEntries: number; maxUncompressedBytes: number } {
  let bytes = 0;
  for (const content of files.values()) bytes += content.length;
  return {
    maxEntries: Math.max(0, limits.maxEntries - files.size),
    maxUncompressedBytes: Math.max(0, limits.maxUncompressedBytes - bytes),
  };
}

/** Files under `dir`, re-keyed relative to it, in sorted order. */
function subtree(files: ReadonlyMap<string, Uint8Array>, dir: string): Map<string, Uint8Array> {
  const paths = [...files.keys()].filter((path) => path.startsWith(dir)).sort();
  return new Map(paths.map((path) => [path.slice(dir.length), files.get(path) ?? new Uint8Array()]));
}

function readSenderIps(files: ReadonlyMap<string, Uint8Array>, warnings: string[]): string[] {
  const content = files.get(HOSTNAME_PATH);
  if (content === undefined) {
    warnings.push(`No ${HOSTNAME_PATH}: the sender's address is unknown.`);
    return [];
  }
  const { ips, rejected } = parseSenderIps(new TextDecoder().decode(content));
  if (rejected.length > 0) warnings.push(`Ignored ${rejected.length} non-IP value(s) in ${HOSTNAME_PATH}.`);
  return ips;
}

// Gradescope's result is informative only: a broken one must not cost us the submission.
function readGradescopeResults(files: ReadonlyMap<string, Uint8Array>, warnings: string[]): ParsedResults | null {
  const content = files.get(RESULTS_PATH);
  if (content === undefined) return null;
  try {
    return parseResultsJson(new TextDecoder().decode(content));
  } catch (error) {
    if (!(error instanceof InvalidSubmissionError)) throw error;
    warnings.push(`Ignored Gradescope's ${RESULTS_PATH}: ${error.message}`);
    return null;
  }
}
