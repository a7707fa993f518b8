import { escapeRegExp } from './letter-patterns.js';
import { variantsOf, type StudentIdentity, type Variant, type VariantKind } from './name-variants.js';

export type { StudentIdentity } from './name-variants.js';

/** Replaces every occurrence of the given identities in a text. */
export type Scrubber = (text: string) => string;

/** The stable stand-ins for the n-th submitter (1-based), so a re-run grader sees consistent values. */
export function tokensOf(index: number): StudentIdentity {
  return { name: `student-${index}`, email: `student-${index}@example.invalid`, sid: `SID-${index}` };
}

interface CompiledVariant extends Variant {
  student: number;
  /** The same pattern, sticky, to retry at one position when an earlier alternative was refused there. */
  sticky: RegExp;
}

// A sid this long is replaced even inside a longer token (hw1_A12345678, A12345678.py); shorter ones
// only as a whole token, since "1234" also occurs inside ordinary numbers.
const SID_ANYWHERE_LENGTH = 6;
// Parts run together without a separator ("lina" from Li Na) must be this long to be a name, not a word.
const MIN_JOINED_LETTERS = 5;
// Chinese, Japanese and Thai are written without spaces: a name runs into the text on both sides (作者王小明的,
// 山田さくらの) and its parts are written together (山田太郎). Three Chinese characters are specific; a whole name
// of four kana or Thai letters is, but one part alone in them is often a word (みどり is "green"), so it keeps its edges.
const UNSPACED_NAME =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\s._\-・ー]+$/u;
const HAN = /\p{Script=Han}/u;
const HAN_NAME = /^[\p{Script=Han}\s._\-・]+$/u;
// Korean puts spaces between words but ends a name with a particle (김민준은): the word must start at an edge only.
const HANGUL_NAME = /^[\p{Script=Hangul}\s._-]+$/u;
const MIN_CJK_JOINED_LETTERS = 3;
const MIN_UNSPACED_NAME_LETTERS = 4;
// In binary content only spellings this long count as a login or a sid: shorter ones occur there by chance.
const MIN_BINARY_TOKEN_LENGTH = 6;

/** What a scrubber looks for. */
export interface ScrubberOptions {
  /**
   * For binary content, where a hit replaces the whole file: only emails, full names of six letters or more with
   * a separator between their parts, logins of six characters or more with a digit or separator in them, and
   * sids of six characters or more, none of which an ordinary word or number spells, nor random bytes by chance.
   */
  binary?: boolean;
}

/**
 * Builds a scrubber for each identity's name, email and sid in every spelling `variantsOf` lists, matched
 * case-insensitively. Replacements are `student-N`, `student-N@example.invalid` and `SID-N` (N = 1-based
 * position in `users`); a match that is a single identifier (jane_doe, JaneDoe) becomes `student_N` and a
 * sid glued to a word `SID_N`, so renamed identifiers in code stay valid.
 *
 * Edges stop over-scrubbing: a name must start and end at a word edge (a non-letter, or a camelCase
 * step as in printJaneDoe), so "Ann Lee" is not found in "Joann Leeds". A name part alone (Jane, Doe)
 * needs three letters and a capital first letter but not all capitals: "Max" in a comment is a name, while
 * `max(`, `MAX_SIZE` and one- or two-letter parts ("Li", "J") are code and letters, and stay. A sid that starts
 * or ends with a digit never runs on into more digits (it is not part of a longer number).
 */
export function createScrubber(identities: readonly StudentIdentity[], options: ScrubberOptions = {}): Scrubber {
  const compiled: CompiledVariant[] = [];
  const byKind = (kind: VariantKind) =>
    identities.flatMap((identity, index) =>
      [...variantsOf(identity), ...mojibakeVariantsOf(identity)]
        .filter((variant) => variant.kind === kind)
        .map((variant) => ({ ...variant, student: index + 1, sticky: new RegExp(variant.pattern, 'iuy') })),
    );
  // Across students too, the most specific kind goes first: one student's full name before another's first name.
  const kinds = options.binary
    ? (['email', 'full-name', 'local-part', 'sid'] as const)
    : (['email', 'full-name', 'mojibake', 'initials', 'local-part', 'sid', 'lone-part'] as const);
  for (const kind of kinds) compiled.push(...byKind(kind));
  if (compiled.length === 0) return (text) => text;
  const combined = new RegExp(compiled.map((variant) => `(${variant.pattern})`).join('|'), 'giu');
  const acceptable = options.binary ? acceptableInBinary : isAcceptable;
  return (text) => scrubWith(text, combined, compiled, acceptable);
}

/**
 * The name as a UTF-8 file shows it once read as Latin-1 ("ZoÃ«" for "Zoë"): a file that is UTF-8 but for
 * one stray byte falls back to Latin-1 as a whole, and its UTF-8 names must still be found. Matched
 * literally: first and last name with any middle names or none, in either order.
 */
function mojibakeVariantsOf(identity: StudentIdentity): Variant[] {
  const parts = identity.name
    .normalize('NFC')
    .split(/[\s-]+/u)
    .filter((part) => part !== '');
  const mojibake = parts.map((part) => Buffer.from(part, 'utf8').toString('latin1'));
  if (parts.length < 2 || mojibake.every((part, index) => part === parts[index])) return [];
  const separator = '[\\s._\\-]{0,3}';
  const [first = '', ...rest] = mojibake.map(escapeRegExp);
  const last = rest.pop() ?? '';
  const middles = rest.map((middle) => `(?:${separator}${middle})?`).join('');
  return [
    { kind: 'mojibake', pattern: `${first}${middles}${separator}${last}` },
    { kind: 'mojibake', pattern: `${last},?\\s{0,2}${first}${middles}` },
  ];
}

type Acceptable = (kind: VariantKind, matched: string, text: string, at: number) => boolean;

function scrubWith(
  text: string,
  combined: RegExp,
  variants: readonly CompiledVariant[],
  acceptable: Acceptable,
): string {
  let out = '';
  let copiedUpTo = 0;
  combined.lastIndex = 0;
  for (let match = combined.exec(text); match !== null; match = combined.exec(text)) {
    const at = match.index;
    const first = match.findIndex((group, index) => index > 0 && group !== undefined) - 1;
    const accepted = acceptAt(text, at, variants, first, acceptable);
    if (accepted === null) {
      combined.lastIndex = at + 1;
      continue;
    }
    out += text.slice(copiedUpTo, at) + replacementOf(accepted.variant, accepted.matched, text, at);
    copiedUpTo = at + accepted.matched.length;
    combined.lastIndex = copiedUpTo;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/**
 * The longest acceptable match at `at`, over the variants from `from` on (the earlier ones did not match
 * there); on a tie the earlier, more specific variant wins. Longest, so "zoe.doe+cs101" is one login,
 * not a name followed by "+cs101".
 */
function acceptAt(
  text: string,
  at: number,
  variants: readonly CompiledVariant[],
  from: number,
  acceptable: Acceptable,
): { variant: CompiledVariant; matched: string } | null {
  let best: { variant: CompiledVariant; matched: string } | null = null;
  for (let index = Math.max(from, 0); index < variants.length; index++) {
    const variant = variants[index];
    if (variant === undefined) continue;
    variant.sticky.lastIndex = at;
    const matched = variant.sticky.exec(text)?.[0];
    if (matched === undefined || matched.length <= (best?.matched.length ?? 0)) continue;
    if (acceptable(variant.kind, matched, text, at)) best = { variant, matched };
  }
  return best;
}

function isAcceptable(kind: VariantKind, matched: string, text: string, at: number): boolean {
  const head = text.slice(Math.max(0, at - 2), at);
  const before = afterEscape(head) ? '' : charBefore(text, at);
  const after = charAt(text, at + matched.length);
  switch (kind) {
    case 'email':
      // Not the tail of a longer address nor the head of a longer domain (jane@uni.edu.au).
      return (
        !/[\p{L}\p{N}._%+-]/u.test(before) &&
        !/^[\p{L}\p{N}]|^[.-][\p{L}\p{N}]/u.test(text.slice(at + matched.length, at + matched.length + 2))
      );
    case 'sid':
      if (/^\p{N}/u.test(matched) && /\p{N}/u.test(before)) return false;
      if (/\p{N}$/u.test(matched) && /\p{N}/u.test(after)) return false;
      if (matched.length >= SID_ANYWHERE_LENGTH) return true;
      return !/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after);
    case 'local-part':
      return !/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after);
    case 'lone-part':
      return looksLikeAName(matched) && hasWordEdges(matched, before, after);
    case 'full-name': {
      if (UNSPACED_NAME.test(matched)) {
        return letters(matched) >= (HAN.test(matched) ? MIN_CJK_JOINED_LETTERS : MIN_UNSPACED_NAME_LETTERS);
      }
      const joinedEnough =
        letters(matched) >= (HANGUL_NAME.test(matched) ? MIN_CJK_JOINED_LETTERS : MIN_JOINED_LETTERS);
      return (hasSeparator(matched) || joinedEnough) && hasWordEdges(matched, before, after);
    }
    case 'initials':
      return hasWordEdges(matched, before, after);
    case 'mojibake':
      // Mis-decoded bytes (Ã«) occur in no real word, and a stray byte may sit right against the name.
      return true;
  }
}

/**
 * In binary content (see ScrubberOptions): full names only with a separator character (not a camelCase step),
 * six letters or more and at word edges; logins only with a digit or separator in them; logins and sids only
 * when six characters or more; emails as in text.
 */
function acceptableInBinary(kind: VariantKind, matched: string, text: string, at: number): boolean {
  // The runs are joined by newlines. A string's last byte may be the next object's type, printable by chance
  // (Python's marshal writes `Jane Doez`): a lone letter closing a run is no part of the word before it.
  const end = at + matched.length;
  const inRun = /^[A-Za-z](?:\n|$)/.test(text.slice(end, end + 2)) ? text.slice(0, end) : text;
  switch (kind) {
    case 'full-name':
      return (
        /[^\p{L}\p{M}\p{N}]/u.test(matched) &&
        letters(matched) >= MIN_BINARY_TOKEN_LENGTH &&
        isAcceptable(kind, matched, inRun, at)
      );
    case 'local-part':
      // A login of letters alone may be a word a library holds (`string`, `walker`): only one with a digit or a
      // separator in it counts (jane.doe, jdoe23).
      return (
        /[^\p{L}]/u.test(matched) && matched.length >= MIN_BINARY_TOKEN_LENGTH && isAcceptable(kind, matched, inRun, at)
      );
    case 'sid':
      return matched.length >= MIN_BINARY_TOKEN_LENGTH && isAcceptable(kind, matched, inRun, at);
    case 'email':
      return isAcceptable(kind, matched, inRun, at);
    default:
      return false;
  }
}

/**
 * Starts at a non-letter or a camelCase step, and ends likewise. A name in Chinese characters needs neither edge,
 * one in Hangul only the first.
 */
function hasWordEdges(matched: string, before: string, after: string): boolean {
  if (HAN_NAME.test(matched)) return true;
  const first = matched[0] ?? '';
  const last = lastLetter(matched);
  const startOk = !/[\p{L}\p{M}]/u.test(before) || (isLower(before) && isUpper(first));
  const endOk = !/[\p{L}\p{M}]/u.test(after) || (isUpper(after) && !isUpper(last)) || HANGUL_NAME.test(matched);
  return startOk && endOk;
}

/**
 * Capitalised like a name (Jane, McDonald), not lower-case (max) nor all capitals (MAX); in a script without
 * capitals (王小明, محمد, 김민준) any spelling is the name.
 */
function looksLikeAName(matched: string): boolean {
  const letterChars = [...matched].filter((char) => /\p{L}/u.test(char));
  const first = letterChars[0] ?? '';
  if (first !== '' && !isUpper(first) && !isLower(first)) return true;
  return isUpper(first) && !letterChars.every(isUpper);
}

function replacementOf(variant: CompiledVariant, matched: string, text: string, at: number): string {
  const tokens = tokensOf(variant.student);
  if (variant.kind === 'email') return tokens.email;
  const before = charBefore(text, at);
  const after = charAt(text, at + matched.length);
  if (variant.kind === 'sid') {
    return /[\p{L}\p{N}_]/u.test(before) || /[\p{L}\p{N}_]/u.test(after) ? tokens.sid.replace('-', '_') : tokens.sid;
  }
  return /^[\p{L}\p{M}\p{N}_]+$/u.test(matched) ? tokens.name.replace('-', '_') : tokens.name;
}

/** An escape such as \n or \t in source or JSON text ends the word before it, though 'n' is a letter. */
function afterEscape(head: string): boolean {
  return /\\[nrtbfv]$/.test(head);
}

function hasSeparator(matched: string): boolean {
  return /[^\p{L}\p{M}\p{N}]/u.test(matched) || /\p{Ll}\p{Lu}/u.test(matched);
}

function letters(matched: string): number {
  return [...matched].filter((char) => /\p{L}/u.test(char)).length;
}

function lastLetter(matched: string): string {
  return [...matched].reverse().find((char) => /\p{L}/u.test(char)) ?? '';
}

function isUpper(char: string): boolean {
  return char !== '' && char === char.toUpperCase() && char !== char.toLowerCase();
}

function isLower(char: string): boolean {
  return char !== '' && char === char.toLowerCase() && char !== char.toUpperCase();
}

function charBefore(text: string, at: number): string {
  if (at <= 0) return '';
  const code = text.charCodeAt(at - 1);
  // A low surrogate: take the whole astral character.
  return code >= 0xdc00 && code <= 0xdfff && at >= 2 ? text.slice(at - 2, at) : text.slice(at - 1, at);
}

function charAt(text: string, at: number): string {
  return String.fromCodePoint(text.codePointAt(at) ?? 0).replace('\u0000', '');
}
