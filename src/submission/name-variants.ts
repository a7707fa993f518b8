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
/** Names longer than this many parts only use their first parts and the last, to bound the subsets. */
const MAX_PARTS = 5;
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
  const parts = nameParts(identity.name);
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
  const sid = identity.sid.trim();
  if (sid.length >= MIN_ALONE_LENGTH) variants.push({ kind: 'sid', pattern: escapeRegExp(sid) });
  for (const part of parts) {
    if (letterCount(part) >= MIN_ALONE_LENGTH) variants.push({ kind: 'lone-part', pattern: partPattern(part) });
  }
  return dedupe(variants);
}

/** The words of a name: split at spaces and hyphens, punctuation such as brackets dropped. */
function nameParts(name: string): string[] {
  const parts = name
    .normalize('NFC')
    .split(/[\s\-‐‑–—,]+/u)
    .map((part) => part.replace(/[^\p{L}\p{M}\p{N}'’]/gu, ''))
    .filter((part) => letterCount(part) > 0);
  return parts.length > MAX_PARTS ? [...parts.slice(0, MAX_PARTS - 1), parts[parts.length - 1] ?? ''] : parts;
}

function partPattern(part: string): string {
  // An apostrophe may be typed straight, curly or left out: O'Brien, O’Brien, OBrien.
  return [...part].map((char) => (/['’]/.test(char) ? "['’]?" : charPattern(char))).join('');
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
