/**
 * PostgreSQL's `text` refuses the byte 0x00 and `jsonb` refuses `\u0000` and unpaired surrogates, while a zip or an
 * untrusted grader may hold any of them. Refusing the row would lose a grade (or fail a run) over a character, so
 * each such character is stored as U+FFFD instead, and counted for the caller to say so.
 */

const REPLACEMENT = '\uFFFD';
/** A high surrogate not followed by a low one, or a low one not preceded by a high one (code units, no `u` flag). */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with U+0000 and unpaired surrogates as U+FFFD, and how many were replaced. */
export function storableText(text: string): { text: string; replaced: number } {
  let replaced = text.split('\u0000').length - 1;
  const fixed = text.replaceAll('\u0000', REPLACEMENT).replace(UNPAIRED_SURROGATE, () => {
    replaced += 1;
    return REPLACEMENT;
  });
  return replaced === 0 ? { text, replaced } : { text: fixed, replaced };
}

/** A JSON value with storableText applied to every string in it, keys included. */
export function storableJson<T>(value: T): { value: T; replaced: number } {
  let replaced = 0;
  const fix = (text: string): string => {
    const result = storableText(text);
    replaced += result.replaced;
    return result.text;
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return fix(node);
    if (Array.isArray(node)) return node.map(walk);
    // Plain JSON containers only: a Date (or any class instance, a Buffer) is kept as it is.
    if (node !== null && typeof node === 'object' && isPlainContainer(node)) {
      return Object.fromEntries(Object.entries(node).map(([key, inner]) => [fix(key), walk(inner)]));
    }
    return node;
  };
  const fixed = walk(value) as T; // walk keeps every value's shape: strings map to strings, containers to containers
  return { value: fixed, replaced };
}

function isPlainContainer(node: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(node);
  return prototype === Object.prototype || prototype === null;
}
