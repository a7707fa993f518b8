import { charPattern, escapeRegExp, skeletonOf } from './letter-patterns.js';

/** What a variant stands for, which decides its replacement and how strictly its edges are checked. */
export type VariantKind = 'email' | 'full-name' | 'mojibake' | 'initials' | 'local-part' | 'lone-part' | 'sid';

/** One spelling of a student's personal data, as a regex source (matched with flags `iu`). */
export interface Variant {
  kind: VariantKind;
  pattern: string;
}

/** The personal data of one submitter that must not leave ingestion. */
export interface StudentIdentity {
  /** Full name as on the roster. */
  name: string;
  /** Email address. */
  email: string;
  /** Student id; '' when unset. */
  sid: string;
}

// Between name parts: spaces, underscores, dots, hyphens or nothing (JaneDoe, jane_doe, jane.doe).
const SEPARATOR = '[\\s._\\-]{0,3}';
// "Doe, Jane" also puts a comma between the last and the first name.
const REVERSED_SEPARATOR = '(?:,\\s{0,2}|[\\s._\\-]{0,3})';
const AT = '(?:@|%40|\\\\u0040|&#0*64;|&#x0*40;|\\s?\\[at\\]\\s?)';
// After an initial: a dot and maybe a space (J. Doe), or '_', '.', '-' or nothing (j_doe, jdoe). A bare space
// is left out: "a student" must not be read as A. Student.
const AFTER_INITIAL = '(?:\\.[\\s_\\-]{0,2}|[_.\\-]?)';
/** Names longer than this many parts combine only their first parts and the last, to bound the subsets. */
const MAX_PARTS = 5;
/** Characters that stand for an apostrophe in a roster name: straight, curly, modifier letter, grave, acute. */
const APOSTROPHES = "'’ʼ‘`´";
/**
 * An apostrophe in text: any of those, Windows-1252's curly one read as Latin-1 (U+0092), escaped in code (\'),
 * as an HTML entity, a space (O Brien) or left out (OBrien).
 */
const APOSTROPHE_PATTERN = `(?:[${APOSTROPHES}\\u0092 ]|\\\\'|&#0*39;|&#x0*27;|&apos;)?`;
/** A name part alone, an email's local part or a sid shorter than this is not searched for in text. */
const MIN_ALONE_LENGTH = 3;

/**
 * Every spelling of one student's name, email and sid that text may contain, most specific first so
 * the longest form wins where several start at the same place.
 */
export function variantsOf(identity: StudentIdentity): Variant[] {
  const variants: Variant[] = [];
  const email = identity.email.trim();
  const [local = '', domain = ''] = splitEmail(email);
  if (local !== '' && domain !== '') {
    variants.push({ kind: 'email', pattern: `${escapeRegExp(local)}${AT}${escapeRegExp(domain)}` });
  }
  const allParts = nameParts(identity.name);
  const parts =
    allParts.length > MAX_PARTS ? [...allParts.slice(0, MAX_PARTS - 1), allParts[allParts.length - 1] ?? ''] : allParts;
  for (const subset of orderedSubsets(parts)) {
    const patterns = subset.map(partPattern);
    variants.push({ kind: 'full-name', pattern: patterns.join(SEPARATOR) });
    // Last name(s) first, for each place the family name may start: "Doe-Smith, Zoë", "Smith, Zoë Doe".
    for (let split = 1; split < patterns.length; split++) {
      const reversed = `${patterns.slice(split).join(SEPARATOR)}${REVERSED_SEPARATOR}${patterns.slice(0, split).join(SEPARATOR)}`;
      variants.push({ kind: 'full-name', pattern: reversed });
    }
  }
  if (parts.length >= 2) variants.push(...initialsVariants(parts));
  for (const candidate of localPartsOf(local)) variants.push({ kind: 'local-part', pattern: escapeRegExp(candidate) });
  for (const pattern of sidPatterns(identity.sid)) variants.push({ kind: 'sid', pattern });
  // Every part alone, also the middle ones a long name leaves out of the combinations above.
  for (const part of allParts) {
    if (letterCount(part) >= MIN_ALONE_LENGTH) variants.push({ kind: 'lone-part', pattern: partPattern(part) });
  }
  return dedupe(variants);
}

/** The words of a name: split at spaces and hyphens, punctuation such as brackets dropped. */
function nameParts(name: string): string[] {
  return name
    .normalize('NFC')
    .split(/[\s\-‐‑–—,]+/u)
    .map((part) => [...part].filter((char) => /[\p{L}\p{M}\p{N}]/u.test(char) || APOSTROPHES.includes(char)).join(''))
    .filter((part) => letterCount(part) > 0);
}

function partPattern(part: string): string {
  return [...part].map((char) => (APOSTROPHES.includes(char) ? APOSTROPHE_PATTERN : charPattern(char))).join('');
}

/**
 * Between the groups of a sid that has separators (123-45-678): any one of them, or none. A dot only between
 * groups with letters: between digits it would make a decimal number (1234.567) a sid.
 */
const SID_SEPARATOR = '[\\s.\\-/]?';
const NUMERIC_SID_SEPARATOR = '[\\s\\-/]?';
/** Without its leading zeros, a numeric sid must keep this many digits: fewer are an ordinary number. */
const MIN_UNPADDED_SID_DIGITS = 6;

/**
 * The sid as the roster has it, with its separators typed as any of them or left out (123-45-678, 123 45 678,
 * 12345678), and a numeric sid also without its leading zeros when six digits or more are left (000123456 →
 * 123456). A sid shorter than three characters is not searched for.
 */
function sidPatterns(sid: string): string[] {
  const groups = sid
    .trim()
    .split(/[\s.\-/]+/u)
    .filter((group) => group !== '');
  const compact = groups.join('');
  if (compact.length < MIN_ALONE_LENGTH) return [];
  const numeric = /^\d+$/.test(compact);
  const unpadded = numeric ? compact.replace(/^0+/, '') : compact;
  const patterns = [groups.map(escapeRegExp).join(numeric ? NUMERIC_SID_SEPARATOR : SID_SEPARATOR)];
  if (unpadded !== compact && unpadded.length >= MIN_UNPADDED_SID_DIGITS) patterns.push(escapeRegExp(unpadded));
  return patterns;
}

/** Every in-order selection of two or more parts (First Last, First Middle, Middle Last, …), longest first. */
function orderedSubsets(parts: readonly string[]): string[][] {
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << parts.length; mask++) {
    const subset = parts.filter((_, index) => (mask & (1 << index)) !== 0);
    if (subset.length >= 2) subsets.push(subset);
  }
  return subsets.sort((a, b) => b.length - a.length);
}

/** J. Doe, J Doe, JDoe, jdoe, J. M. Doe, and Doe, J. — only when the last name is long enough to be specific. */
function initialsVariants(parts: readonly string[]): Variant[] {
  const last = parts[parts.length - 1] ?? '';
  if (letterCount(last) < MIN_ALONE_LENGTH) return [];
  const initial = (part: string) => charPattern([...part][0] ?? '');
  const first = parts[0] ?? '';
  const middles = parts.slice(1, -1).map((part) => `(?:${initial(part)}${AFTER_INITIAL})?`);
  return [
    { kind: 'initials', pattern: `${initial(first)}${AFTER_INITIAL}${middles.join('')}${partPattern(last)}` },
    { kind: 'initials', pattern: `${partPattern(last)},\\s{0,2}${initial(first)}\\.?` },
  ];
}

/** The local part of the email and, for plus-addressing (jane+cs101), the part before the plus. */
function localPartsOf(local: string): string[] {
  const candidates = [local, local.split('+')[0] ?? ''];
  return [...new Set(candidates)].filter((candidate) => candidate.length >= MIN_ALONE_LENGTH);
}

function splitEmail(email: string): [string, string] {
  const at = email.lastIndexOf('@');
  return at < 0 ? [email, ''] : [email.slice(0, at), email.slice(at + 1)];
}

function letterCount(part: string): number {
  return [...part.normalize('NFC')].filter((char) => /\p{L}/u.test(char) || skeletonOf(char) !== '').length;
}

function dedupe(variants: Variant[]): Variant[] {
  const seen = new Set<string>();
  return variants.filter((variant) => !seen.has(variant.pattern) && seen.add(variant.pattern));
}
