/** How a text file was stored, so a scrubbed copy can be written back the same way. */
export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'latin1';

/** A file read as text, with the encoding it came in. */
export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const strictUtf16le = new TextDecoder('utf-16le', { fatal: true });
const strictUtf16be = new TextDecoder('utf-16be', { fatal: true });

/**
 * Reads a file as text: UTF-8 (with or without BOM), UTF-16 with a BOM (LE or BE), else Latin-1 as a
 * fallback, since Latin-1 can decode any byte. Returns null for binary content: NUL bytes outside
 * UTF-16, or more than a few control characters that text files do not contain.
 */
export function decodeText(bytes: Uint8Array): DecodedText | null {
  if (startsWith(bytes, [0xff, 0xfe])) return decodeWith(strictUtf16le, bytes.subarray(2), 'utf-16le');
  if (startsWith(bytes, [0xfe, 0xff])) return decodeWith(strictUtf16be, bytes.subarray(2), 'utf-16be');
  if (looksBinary(bytes)) return null;
  // A file marked UTF-8 whose bytes are not all UTF-8 (one Latin-1 byte typed into it) is read as Latin-1 as a
  // whole, byte-order mark included, like an unmarked one: it is still text to scrub, and writes back unchanged.
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) {
    return decodeWith(strictUtf8, bytes.subarray(3), 'utf-8-bom') ?? { text: latin1Decode(bytes), encoding: 'latin1' };
  }
  return decodeWith(strictUtf8, bytes, 'utf-8') ?? { text: latin1Decode(bytes), encoding: 'latin1' };
}

/**
 * Writes text back in `encoding`. Latin-1 cannot hold every character: those it cannot are written as
 * '?', which only happens to text the scrubber put in (its tokens are ASCII), never to the original.
 */
export function encodeText(text: string, encoding: TextEncodingName): Uint8Array {
  switch (encoding) {
    case 'utf-8':
      return new TextEncoder().encode(text);
    case 'utf-8-bom':
      return concat([0xef, 0xbb, 0xbf], new TextEncoder().encode(text));
    case 'utf-16le':
      return concat([0xff, 0xfe], new Uint8Array(Buffer.from(text, 'utf16le')));
    case 'utf-16be':
      return concat([0xfe, 0xff], new Uint8Array(Buffer.from(text, 'utf16le').swap16()));
    case 'latin1':
      return new Uint8Array(Buffer.from(text.replace(/[\u{100}-\u{10ffff}]/gu, '?'), 'latin1'));
  }
}

function decodeWith(
  decoder: { decode(bytes: Uint8Array): string },
  bytes: Uint8Array,
  encoding: TextEncodingName,
): DecodedText | null {
  try {
    return { text: decoder.decode(bytes), encoding };
  } catch {
    return null;
  }
}

function latin1Decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Control bytes other than tab, newline, form feed, carriage return and escape. */
function isControl(byte: number): boolean {
  return (
    (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b) || byte === 0x7f
  );
}

// A NUL byte, or control bytes in more than 1 % of the first 8 KiB, means binary (as `file` and git judge it).
const SNIFF_BYTES = 8192;

function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.includes(0)) return true;
  let controls = 0;
  for (const byte of head) if (isControl(byte)) controls++;
  return controls > head.length / 100;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}

function concat(prefix: readonly number[], rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + rest.length);
  out.set(prefix);
  out.set(rest, prefix.length);
  return out;
}
