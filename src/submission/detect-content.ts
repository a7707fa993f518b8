/**
 * What a file is, judged by its first bytes rather than its name, since a student can call a PDF
 * `notes.txt`. `document` covers what may show a person's name or face and cannot be scrubbed as
 * text: PDF, office files (OOXML, OpenDocument, legacy OLE), images, RTF.
 */
type ContentKind = 'document' | 'zip' | 'other-archive' | 'other';

/** A short label of a recognised format, for placeholders and reports. */
export interface DetectedContent {
  kind: ContentKind;
  format: string;
}

interface Signature {
  offset: number;
  bytes: readonly number[];
  kind: ContentKind;
  format: string;
}

const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

const SIGNATURES: readonly Signature[] = [
  { offset: 0, bytes: ascii('%PDF'), kind: 'document', format: 'PDF' },
  { offset: 0, bytes: ascii('{\\rtf'), kind: 'document', format: 'RTF' },
  { offset: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], kind: 'document', format: 'OLE (doc/xls/ppt)' },
  { offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47], kind: 'document', format: 'PNG image' },
  { offset: 0, bytes: [0xff, 0xd8, 0xff], kind: 'document', format: 'JPEG image' },
  { offset: 0, bytes: ascii('GIF8'), kind: 'document', format: 'GIF image' },
  { offset: 0, bytes: ascii('BM'), kind: 'document', format: 'BMP image' },
  { offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00], kind: 'document', format: 'TIFF image' },
  { offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a], kind: 'document', format: 'TIFF image' },
  { offset: 8, bytes: ascii('WEBP'), kind: 'document', format: 'WebP image' },
  { offset: 4, bytes: ascii('ftypheic'), kind: 'document', format: 'HEIC image' },
  { offset: 4, bytes: ascii('ftypmif1'), kind: 'document', format: 'HEIF image' },
  { offset: 4, bytes: ascii('ftypavif'), kind: 'document', format: 'AVIF image' },
  { offset: 0, bytes: [0x00, 0x00, 0x01, 0x00], kind: 'document', format: 'ICO image' },
  { offset: 0, bytes: [0x1f, 0x8b], kind: 'other-archive', format: 'gzip' },
  { offset: 0, bytes: ascii('BZh'), kind: 'other-archive', format: 'bzip2' },
  { offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], kind: 'other-archive', format: 'xz' },
  { offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd], kind: 'other-archive', format: 'zstd' },
  { offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], kind: 'other-archive', format: '7z' },
  { offset: 0, bytes: ascii('Rar!'), kind: 'other-archive', format: 'RAR' },
  { offset: 257, bytes: ascii('ustar'), kind: 'other-archive', format: 'tar' },
];

const ZIP_SIGNATURES = [ascii('PK\u0003\u0004'), ascii('PK\u0005\u0006')];

const OOXML_PART = /^(?:\[Content_Types\]\.xml$|word\/document\.xml$|xl\/workbook\.xml$|ppt\/presentation\.xml$)/;

/** Classifies content by magic bytes; SVG is text and is scrubbed as such. */
export function detectContent(bytes: Uint8Array): DetectedContent {
  if (ZIP_SIGNATURES.some((signature) => matchesAt(bytes, 0, signature))) {
    const names = zipEntryNames(bytes);
    // OOXML lists its content-type table or main part; OpenDocument starts with a `mimetype` entry.
    const office =
      names.some((name) => OOXML_PART.test(name)) || (names[0] === 'mimetype' && names.includes('content.xml'));
    return office ? { kind: 'document', format: 'office document (zip)' } : { kind: 'zip', format: 'zip' };
  }
  const found = SIGNATURES.find((signature) => matchesAt(bytes, signature.offset, signature.bytes));
  // 'BM' alone is two common letters: a BMP also declares its file size right after them.
  if (found?.format === 'BMP image' && !isPlausibleBmp(bytes)) return { kind: 'other', format: 'data' };
  if (found?.format === 'ICO image' && bytes.length < 22) return { kind: 'other', format: 'data' };
  return found ? { kind: found.kind, format: found.format } : { kind: 'other', format: 'data' };
}

/** Names in a zip's central directory; [] when it cannot be found (a damaged zip is then handled as a zip). */
function zipEntryNames(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record sits in the last 22 bytes plus a comment of at most 64 KiB.
  const end = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]), buffer.length - 22);
  if (end < 0 || end + 22 > buffer.length) return [];
  const count = buffer.readUInt16LE(end + 10);
  let offset = buffer.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let index = 0; index < count && offset + 46 <= buffer.length; index++) {
    if (buffer.readUInt32LE(offset) !== 0x02014b50) break;
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    names.push(buffer.toString('utf8', offset + 46, Math.min(buffer.length, offset + 46 + nameLength)));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

function matchesAt(bytes: Uint8Array, offset: number, signature: readonly number[]): boolean {
  return bytes.length >= offset + signature.length && signature.every((byte, index) => bytes[offset + index] === byte);
}

function isPlausibleBmp(bytes: Uint8Array): boolean {
  if (bytes.length < 26) return false;
  const declaredSize = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(2);
  return declaredSize === bytes.length;
}
