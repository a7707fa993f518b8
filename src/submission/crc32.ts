// Own CRC-32 (zip polynomial) because zlib.crc32 only exists from Node 20.15 and our engines allow 20.3.
const TABLE = new Uint32Array(256).map((_, index) => {
  let value = index;
  for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
  return value >>> 0;
});

/** Continues a CRC-32 over `chunk`; start with 0, feed every chunk in order. */
export function crc32(chunk: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (const byte of chunk) crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return ~crc >>> 0;
}
