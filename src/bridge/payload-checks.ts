/** Why the bridge refused a message outright, before storing it as a payload. */
export type PayloadRejection = { code: 'oversized' | 'empty' | 'not-a-zip'; reason: string };

// Local file header, or the end-of-central-directory record of an empty archive.
const ZIP_SIGNATURES = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];

/** Cheap checks that need no unzip: the full validation happens in the storeSubmission activity. */
export function checkPayload(bytes: Uint8Array, maxBytes: number): PayloadRejection | null {
  if (bytes.length === 0) return { code: 'empty', reason: 'the message has no payload' };
  if (bytes.length > maxBytes) {
    return { code: 'oversized', reason: `payload of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit` };
  }
  const head = Buffer.from(bytes.subarray(0, 4));
  if (!ZIP_SIGNATURES.some((signature) => signature.equals(head))) {
    return { code: 'not-a-zip', reason: `payload starts with 0x${head.toString('hex')}, not a zip signature` };
  }
  return null;
}
