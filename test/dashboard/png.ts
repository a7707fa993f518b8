// Just enough PNG decoding to look at a screenshot's pixels: 8-bit RGB or RGBA, non-interlaced (what
// Chromium writes). Pure Node (zlib), no image library.
import { inflateSync } from 'node:zlib';

export interface Pixels {
  width: number;
  height: number;
  /** RGBA, row by row. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(png: Buffer): Pixels {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colourType: number; interlace: number } | null = null;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body.readUInt8(8),
        colourType: body.readUInt8(9),
        interlace: body.readUInt8(12),
      };
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR');
  const channels = header.colourType === 6 ? 4 : header.colourType === 2 ? 3 : 0;
  if (header.bitDepth !== 8 || channels === 0 || header.interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${header.bitDepth}, colour type ${header.colourType}`);
  }
  const { width, height } = header;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const current = new Uint8Array(stride);
  let previous = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) {
    const start = row * (stride + 1);
    const filter = raw[start] ?? 0;
    for (let i = 0; i < stride; i++) {
      const x = raw[start + 1 + i] ?? 0;
      const a = i >= channels ? (current[i - channels] ?? 0) : 0;
      const b = previous[i] ?? 0;
      const c = i >= channels ? (previous[i - channels] ?? 0) : 0;
      current[i] = (x + unfilter(filter, a, b, c)) & 0xff;
    }
    for (let col = 0; col < width; col++) {
      const to = (row * width + col) * 4;
      const from = col * channels;
      rgba[to] = current[from] ?? 0;
      rgba[to + 1] = current[from + 1] ?? 0;
      rgba[to + 2] = current[from + 2] ?? 0;
      rgba[to + 3] = channels === 4 ? (current[from + 3] ?? 0) : 255;
    }
    previous = current.slice();
  }
  return { width, height, rgba };
}

function unfilter(filter: number, a: number, b: number, c: number): number {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return Math.floor((a + b) / 2);
    case 4: {
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    default:
      throw new Error(`unknown PNG filter ${filter}`);
  }
}

/** Pixels within `tolerance` (per channel) of the `#rrggbb` colour. */
export function countNear(pixels: Pixels, hex: string, tolerance = 12): number {
  const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let count = 0;
  for (let i = 0; i < pixels.rgba.length; i += 4) {
    if (target.every((value, channel) => Math.abs((pixels.rgba[i + channel] ?? 0) - value) <= tolerance)) count++;
  }
  return count;
}

/** Pixels that are not (near) white. */
export function countNonWhite(pixels: Pixels): number {
  let count = 0;
  for (let i = 0; i < pixels.rgba.length; i += 4) {
    if ((pixels.rgba[i] ?? 0) < 240 || (pixels.rgba[i + 1] ?? 0) < 240 || (pixels.rgba[i + 2] ?? 0) < 240) count++;
  }
  return count;
}
