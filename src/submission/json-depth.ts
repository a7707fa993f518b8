import { InvalidSubmissionError, type InvalidSubmissionReason } from './errors.js';

/**
 * Deepest JSON a submission may hold. Gradescope's files nest a few levels; a hostile one nested 100,000 deep parses
 * (V8's JSON.parse does not recurse) but overflows the stack of every recursive step after it: the anonymiser,
 * JSON.stringify when it is stored, and PostgreSQL's jsonb input. Refused before parsing, with its reason.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * How deep the arrays and objects of a JSON text nest, read without recursion (brackets inside strings do not
 * count). Meant for the text before JSON.parse: malformed JSON gets a number too, and JSON.parse then refuses it.
 */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const char = text.charCodeAt(at);
    if (inString) {
      if (char === 0x5c)
        at++; // a backslash: the next character is escaped, whatever it is
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) deepest = Math.max(deepest, ++depth);
    else if ((char === 0x5d || char === 0x7d) && depth > 0) depth--;
  }
  return deepest;
}

/** Refuses `text`, named `name` in the message, when it nests deeper than MAX_JSON_DEPTH. */
export function refuseDeepJson(text: string, reason: InvalidSubmissionReason, name: string): void {
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH) {
    throw new InvalidSubmissionError(reason, `${name} nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
}
