import type { Scrubber } from './scrub-text.js';

// A JSON string literal: quote, then anything but quotes, backslashes and line breaks, or an escape.
const STRING_LITERAL = /"(?:[^"\\\n\r]|\\.)*"/g;

/**
 * Scrubs JSON text (results.json, notebooks, any `.json`) after decoding its escapes, so a name after an
 * escaped `\n` or spelt with `\u00eb` is found. Every string literal, key or value, is decoded, scrubbed
 * and written back re-escaped only when it changed; the rest of the text is kept byte for byte, so
 * numbers, key order and indentation survive. Text between literals (and all of an invalid file) is
 * scrubbed as plain text, whose patterns are escape-aware too.
 */
export function scrubJsonText(text: string, scrub: Scrubber): string {
  let out = '';
  let copiedUpTo = 0;
  for (const match of text.matchAll(STRING_LITERAL)) {
    out += scrub(text.slice(copiedUpTo, match.index)) + scrubLiteral(match[0], scrub);
    copiedUpTo = match.index + match[0].length;
  }
  return out + scrub(text.slice(copiedUpTo));
}

function scrubLiteral(literal: string, scrub: Scrubber): string {
  let value: unknown;
  try {
    value = JSON.parse(literal);
  } catch {
    // Not a valid literal (an invalid file): scrub its text as it stands.
    return scrub(literal);
  }
  if (typeof value !== 'string') return scrub(literal);
  const scrubbed = scrub(value);
  if (scrubbed === value) return literal;
  // Escape non-ASCII as the original did (Python's json writes \u00eb), so a Latin-1 file stays encodable.
  return /\P{ASCII}/u.test(literal) ? JSON.stringify(scrubbed) : asciiJson(scrubbed);
}

function asciiJson(value: string): string {
  return JSON.stringify(value).replace(
    // Per UTF-16 code unit, so a character outside the BMP becomes its surrogate pair, as JSON wants.
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Files scrubbed as JSON: by name, or by content when a file without extension starts like JSON. */
export function isJsonPath(path: string): boolean {
  return /\.(?:json|ipynb|geojson|jsonl|ndjson|har)$/i.test(path);
}
