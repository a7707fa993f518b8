// Regex pieces that match one letter of a name however it was typed: any accent on it (precomposed
// or as combining marks, so NFC and NFD text alike), without an accent, or written as an escape
// (`\u00eb` in JSON, Python or Java; `&#235;`, `&#xeb;` or `&euml;` in HTML).

/** Letters that do not decompose under NFD but are commonly typed without their stroke or ligature. */
const SPECIAL_LETTERS: Readonly<Record<string, string>> = {
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  ħ: 'h',
  ı: 'i',
  ŧ: 't',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  þ: 'th',
};

/** HTML entity names of the accents a NFD-decomposed Latin letter can carry. */
const ENTITY_OF_MARK: Readonly<Record<string, string>> = {
  '\u0300': 'grave',
  '\u0301': 'acute',
  '\u0302': 'circ',
  '\u0303': 'tilde',
  '\u0308': 'uml',
  '\u030a': 'ring',
  '\u0327': 'cedil',
};

/** Every precomposed Latin letter, both cases, by the ASCII letter it is built on (é → e). */
const ACCENTED_FORMS: ReadonlyMap<string, string> = buildAccentedForms();

function buildAccentedForms(): Map<string, string> {
  const forms = new Map<string, string>();
  const add = (base: string, char: string) => forms.set(base, (forms.get(base) ?? '') + char);
  const ranges: [number, number][] = [
    [0xc0, 0x24f],
    [0x1e00, 0x1eff],
  ];
  for (const [from, to] of ranges) {
    for (let codePoint = from; codePoint <= to; codePoint++) {
      const char = String.fromCodePoint(codePoint);
      const decomposed = char.normalize('NFD');
      const base = decomposed[0] ?? '';
      if (decomposed.length > 1 && /^[a-z]$/i.test(base) && /^\p{M}+$/u.test(decomposed.slice(1))) {
        add(base.toLowerCase(), char);
      }
    }
  }
  for (const [special, base] of Object.entries(SPECIAL_LETTERS)) {
    if (base.length === 1) add(base, special + special.toUpperCase());
  }
  return forms;
}

// Combining marks may follow any letter, typed or escaped (U+0300–U+036F).
const MARKS = '(?:\\p{M}|\\\\u03[0-6][0-9a-f])*';

/** Matches the ASCII letter `base` with any accent or none. */
function baseLetterPattern(base: string): string {
  return `[${escapeClass(base)}${escapeClass(ACCENTED_FORMS.get(base) ?? '')}]${MARKS}`;
}

/**
 * Patterns already built, by character: every submission builds them for every letter of every student's name
 * variants, and they depend on the character alone. Bounded: names use few distinct characters, but a roster
 * can bring any.
 */
const patternCache = new Map<string, string>();
const PATTERN_CACHE_MAX = 4096;

/** Matches one character of a name as typed on the roster, in any of the spellings above. */
export function charPattern(char: string): string {
  const cached = patternCache.get(char);
  if (cached !== undefined) return cached;
  const pattern = buildCharPattern(char);
  if (patternCache.size < PATTERN_CACHE_MAX) patternCache.set(char, pattern);
  return pattern;
}

function buildCharPattern(char: string): string {
  const composed = char.normalize('NFC');
  const skeleton = skeletonOf(composed);
  const alternatives = new Set<string>();
  alternatives.add(skeleton === '' ? escapeRegExp(composed) + MARKS : [...skeleton].map(literalOrLetter).join(''));
  // German umlauts are also written with a trailing e: Müller, Mueller.
  if (/^[äöüÄÖÜ]$/.test(composed)) alternatives.add(baseLetterPattern(skeleton) + baseLetterPattern('e'));
  if (/\P{ASCII}/u.test(composed)) for (const escape of escapesOf(composed)) alternatives.add(escape);
  return alternatives.size === 1 ? [...alternatives].join('') : `(?:${[...alternatives].join('|')})`;
}

/** The accent-free lower-case ASCII spelling of one character, or '' when it has none (e.g. Cyrillic). */
export function skeletonOf(char: string): string {
  const lower = char.normalize('NFC').toLowerCase();
  const special = SPECIAL_LETTERS[lower];
  if (special !== undefined) return special;
  const stripped = lower.normalize('NFD').replace(/\p{M}/gu, '');
  return /^[a-z0-9]+$/.test(stripped) ? stripped : '';
}

function literalOrLetter(char: string): string {
  return /^[a-z]$/.test(char) ? baseLetterPattern(char) : escapeRegExp(char);
}

/** `\u00eb`, `\u{eb}`, `\xeb`, `&#235;`, `&#xeb;` and the named entity when there is one. */
function escapesOf(char: string): string[] {
  const codePoint = char.codePointAt(0) ?? 0;
  const hex = codePoint.toString(16);
  const escapes = [`\\\\u0*${hex}`, `\\\\u\\{0*${hex}\\}`, `&#0*${codePoint};`, `&#x0*${hex};`];
  if (codePoint <= 0xff) escapes.push(`\\\\x${hex}`);
  const [base = '', mark = ''] = char.normalize('NFD');
  const entity = ENTITY_OF_MARK[mark];
  if (entity !== undefined && /^[a-z]$/i.test(base)) escapes.push(`&${base}${entity};`);
  return escapes;
}

/** Escapes every character that has a meaning in a regular expression (unicode mode). */
export function escapeRegExp(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function escapeClass(value: string): string {
  return value.replace(/[\\\]^-]/g, '\\$&');
}
