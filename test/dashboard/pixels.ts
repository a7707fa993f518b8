// Counts a screenshot's pixels by colour, enough to tell a drawn chart from a blank one.
import { PNG } from 'pngjs';

/** Decoded pixels: `data` is RGBA, row by row, whatever colour type the PNG was stored in. */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodePng(png: Buffer): Pixels {
  return PNG.sync.read(png);
}

/** Pixels within `tolerance` (per channel) of the `#rrggbb` colour. */
export function countNear(pixels: Pixels, hex: string, tolerance = 12): number {
  const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return countWhere(pixels, (rgb) =>
    target.every((value, channel) => Math.abs((rgb[channel] ?? 0) - value) <= tolerance),
  );
}

/** Pixels that are not (near) white. */
export function countNonWhite(pixels: Pixels): number {
  return countWhere(pixels, (rgb) => rgb.some((value) => value < 240));
}

function countWhere(pixels: Pixels, matches: (rgb: Uint8Array) => boolean): number {
  let count = 0;
  for (let i = 0; i < pixels.data.length; i += 4) if (matches(pixels.data.subarray(i, i + 3))) count++;
  return count;
}
