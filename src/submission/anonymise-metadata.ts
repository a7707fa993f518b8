import { refuseDeepJson } from './json-depth.js';
import { InvalidSubmissionError } from './errors.js';
import { ROOT_MARKER } from './find-root.js';
import { pseudonymOf } from './pseudonym.js';
import { tokensOf, type Scrubber } from './scrub-text.js';
import { decodeText } from './text-codec.js';

/**
 * submission_metadata.json with every string and key scrubbed, and each `users[]` entry reduced to
 * `id` (a keyed pseudonym), `name`, `email` and `sid` (the `student-N` tokens). Everything else a user
 * carries is dropped: the per-student `assignment` dates reveal extensions and accommodations, and any
 * field Gradescope adds later is personal until shown otherwise. The assignment's own dates stay, since
 * scheduling works to them.
 */
export function anonymiseMetadataFile(content: Uint8Array, scrub: Scrubber, pseudonymKey: Uint8Array): Uint8Array {
  const decoded = decodeText(content);
  refuseDeepJson(decoded?.text ?? '', 'invalid-metadata', ROOT_MARKER);
  let json: unknown;
  try {
    json = JSON.parse(decoded?.text ?? '');
  } catch (error) {
    throw new InvalidSubmissionError('invalid-metadata', `${ROOT_MARKER} is not valid JSON.`, { cause: error });
  }
  return new TextEncoder().encode(JSON.stringify(anonymiseMetadataJson(json, scrub, pseudonymKey)));
}

/** The same on parsed JSON. */
function anonymiseMetadataJson(json: unknown, scrub: Scrubber, pseudonymKey: Uint8Array): unknown {
  const scrubbed = scrubStrings(json, scrub);
  if (!isRecord(scrubbed) || !isRecord(json) || !Array.isArray(json.users)) return scrubbed;
  const users = json.users.map((user: unknown, index) => {
    if (!isRecord(user)) return user;
    const tokens = tokensOf(index + 1);
    return {
      id: typeof user.id === 'number' ? pseudonymOf(user.id, pseudonymKey) : user.id,
      name: tokens.name,
      email: tokens.email,
      // An empty sid stays empty: it records that the roster had none, which is not personal data.
      sid: typeof user.sid === 'string' && user.sid.trim() === '' ? user.sid : tokens.sid,
    };
  });
  return { ...scrubbed, users };
}

function scrubStrings(json: unknown, scrub: Scrubber): unknown {
  if (typeof json === 'string') return scrub(json);
  if (Array.isArray(json)) return json.map((item: unknown) => scrubStrings(item, scrub));
  if (isRecord(json)) {
    return Object.fromEntries(Object.entries(json).map(([key, value]) => [scrub(key), scrubStrings(value, scrub)]));
  }
  return json;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
