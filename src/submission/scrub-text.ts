/** The personal data of one submitter that must not leave ingestion. */
export interface StudentIdentity {
  /** Full name as on the roster. */
  name: string;
  /** Email address. */
  email: string;
  /** Student id; '' when unset. */
  sid: string;
}

/** Replaces every occurrence of the given identities in a text. */
export type Scrubber = (text: string) => string;

/**
 * Shorter values are only replaced in the metadata, not in files: a sid such as "7" or a name such as
 * "Al" would otherwise rewrite ordinary code.
 */
const MIN_SCRUBBED_LENGTH = 3;

// Letters, digits and '_' may not touch a match, so "Ann Lee" is not found inside "Joann Leeds".
const BEFORE = '(?<![\\p{L}\\p{N}_])';
const AFTER = '(?![\\p{L}\\p{N}_])';

/**
 * Builds a scrubber for the full name, email and sid of each identity, matched literally (regex
 * characters escaped), case-insensitively and as whole words; any run of whitespace matches the
 * spaces inside a name. First or last names alone are NOT replaced: common ones ("Will", "Long",
 * "Park") are everyday words and identifiers, and rewriting them would change what the code does.
 */
export function createScrubber(identities: readonly StudentIdentity[], placeholder: StudentIdentity): Scrubber {
  const patterns = new Map<string, string>();
  const add = (value: string, pattern: string, replacement: string) => {
    if (value.trim().length >= MIN_SCRUBBED_LENGTH && !patterns.has(pattern)) patterns.set(pattern, replacement);
  };
  for (const identity of identities) {
    add(identity.email, escapeRegExp(identity.email.trim()), placeholder.email);
    add(identity.name, identity.name.trim().split(/\s+/).map(escapeRegExp).join('\\s+'), placeholder.name);
    add(identity.sid, escapeRegExp(identity.sid.trim()), placeholder.sid);
  }
  if (patterns.size === 0) return (text) => text;

  // Longest first, so an email wins over a sid that it contains.
  const ordered = [...patterns].sort(([a], [b]) => b.length - a.length);
  const regex = new RegExp(`${BEFORE}(?:${ordered.map(([pattern]) => `(${pattern})`).join('|')})${AFTER}`, 'giu');
  const replacements = ordered.map(([, replacement]) => replacement);
  return (text) =>
    text.replace(regex, (...args: unknown[]) => {
      const group = replacements.findIndex((_, index) => typeof args[index + 1] === 'string');
      return replacements[group] ?? String(args[0]);
    });
}

/** Escapes every character that has a meaning in a regular expression (unicode mode). */
function escapeRegExp(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
