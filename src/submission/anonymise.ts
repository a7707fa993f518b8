import { InvalidSubmissionError } from './errors.js';
import { ROOT_MARKER } from './find-root.js';
import { createScrubber, type Scrubber, type StudentIdentity } from './scrub-text.js';

/** Stands in for every student's full name. */
export const PLACEHOLDER_NAME = 'John Doe';
/** Stands in for every student's email address. */
export const PLACEHOLDER_EMAIL = 'johndoe@uni.edu';
/** Stands in for every non-empty student id. */
export const PLACEHOLDER_SID = 'A00000000';

const PLACEHOLDER: StudentIdentity = { name: PLACEHOLDER_NAME, email: PLACEHOLDER_EMAIL, sid: PLACEHOLDER_SID };

/** Paths inside the Gradescope tree (after the root folder is stripped). */
export const METADATA_PATH = ROOT_MARKER;
export const SUBMISSION_DIR = 'autograder/submission/';
export const RESULTS_DIR = 'autograder/results/';

/** Whether to anonymise; on unless `enabled: false` is passed. */
export interface AnonymiseOptions {
  enabled?: boolean;
}

/** What anonymisation did. */
export interface AnonymisationReport {
  /** Submitters whose name, email and sid were replaced (0 when disabled). */
  usersAnonymised: number;
  /** Student and result files whose text was rewritten (the metadata file is not counted). */
  filesChanged: number;
  /** PDF files deleted from the student's files. */
  pdfsRemoved: number;
}

/** Files after anonymisation, and what changed. */
export interface AnonymisedEntries {
  files: Map<string, Uint8Array>;
  report: AnonymisationReport;
}

/**
 * Does what the original ingestion did before storing anything: deletes the student's PDFs and
 * replaces each submitter's full name, email and sid with placeholders in the metadata and in every
 * text file the student submitted. It also scrubs `autograder/results/` (Gradescope's result and
 * stdout often echo the student's files) and every string of the metadata, such as earlier results'
 * output. Binary files (NUL bytes or invalid UTF-8) are kept byte for byte; file names are not changed.
 */
export function anonymiseEntries(
  files: ReadonlyMap<string, Uint8Array>,
  identities: readonly StudentIdentity[],
  options: AnonymiseOptions = {},
): AnonymisedEntries {
  if (options.enabled === false) {
    return { files: new Map(files), report: { usersAnonymised: 0, filesChanged: 0, pdfsRemoved: 0 } };
  }
  const scrub = createScrubber(identities, PLACEHOLDER);
  const result = new Map<string, Uint8Array>();
  let filesChanged = 0;
  let pdfsRemoved = 0;
  for (const [path, content] of files) {
    if (path.startsWith(SUBMISSION_DIR) && /\.pdf$/i.test(path)) {
      pdfsRemoved++;
    } else if (path === METADATA_PATH) {
      result.set(path, anonymiseMetadataFile(content, scrub));
    } else if (path.startsWith(SUBMISSION_DIR) || path.startsWith(RESULTS_DIR)) {
      const scrubbed = scrubFile(content, scrub);
      if (scrubbed !== content) filesChanged++;
      result.set(path, scrubbed);
    } else {
      result.set(path, content);
    }
  }
  return { files: result, report: { usersAnonymised: identities.length, filesChanged, pdfsRemoved } };
}

/** Metadata JSON with every string scrubbed and each `users[]` name, email and non-empty sid replaced. */
export function anonymiseMetadataJson(json: unknown, identities: readonly StudentIdentity[]): unknown {
  return replaceUserFields(scrubStrings(json, createScrubber(identities, PLACEHOLDER)));
}

function anonymiseMetadataFile(content: Uint8Array, scrub: Scrubber): Uint8Array {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(content));
  } catch (error) {
    throw new InvalidSubmissionError('invalid-metadata', `${METADATA_PATH} is not valid JSON.`, { cause: error });
  }
  return new TextEncoder().encode(JSON.stringify(replaceUserFields(scrubStrings(json, scrub))));
}

function replaceUserFields(json: unknown): unknown {
  if (!isRecord(json) || !Array.isArray(json.users)) return json;
  const users: unknown[] = json.users.map((user: unknown) => {
    if (!isRecord(user)) return user;
    const replaced: Record<string, unknown> = { ...user, name: PLACEHOLDER_NAME, email: PLACEHOLDER_EMAIL };
    // An empty sid stays empty: it records that the roster had none, which is not personal data.
    if (typeof user.sid === 'string' && user.sid !== '') replaced.sid = PLACEHOLDER_SID;
    return replaced;
  });
  return { ...json, users };
}

function scrubStrings(json: unknown, scrub: Scrubber): unknown {
  if (typeof json === 'string') return scrub(json);
  if (Array.isArray(json)) return json.map((item: unknown) => scrubStrings(item, scrub));
  if (isRecord(json)) {
    return Object.fromEntries(Object.entries(json).map(([key, value]) => [key, scrubStrings(value, scrub)]));
  }
  return json;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns `content` itself when it is binary or nothing matched, so callers can tell what changed. */
function scrubFile(content: Uint8Array, scrub: Scrubber): Uint8Array {
  const text = decodeText(content);
  if (text === null) return content;
  const scrubbed = scrub(text);
  return scrubbed === text ? content : new TextEncoder().encode(scrubbed);
}

// ignoreBOM keeps a leading byte-order mark in the text, so re-encoding puts it back.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The file as text, or null when it looks binary: it has a NUL byte or is not valid UTF-8. */
export function decodeText(content: Uint8Array): string | null {
  if (content.includes(0)) return null;
  try {
    return strictUtf8.decode(content);
  } catch {
    return null;
  }
}
