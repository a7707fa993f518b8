/** What the grader container's command found at results.json once the grader and all it started had ended. */
export type ResultsFile =
  | { kind: 'absent' }
  | { kind: 'too-large'; sizeBytes: number }
  | { kind: 'not-a-file' }
  | { kind: 'read'; text: string; truncated: boolean };

/**
 * Reads the results part of the container's trailer (see graderCommand): a first line saying what results.json
 * is (`absent`, `not-regular`, `too-large SIZE`, `present`), then for a present file at most cap + 1 of its bytes
 * in base64. Throws on anything else: the trailer comes from the node's own command, so a bad one is a fault.
 */
export function parseResultsTrailer(trailer: string, maxBytes: number): ResultsFile {
  const newline = trailer.indexOf('\n');
  const status = (newline === -1 ? trailer : trailer.slice(0, newline)).trim();
  const body = newline === -1 ? '' : trailer.slice(newline + 1);
  if (status === 'absent') return { kind: 'absent' };
  if (status === 'not-regular') return { kind: 'not-a-file' };
  const tooLarge = /^too-large (\d+)$/.exec(status);
  if (tooLarge) return { kind: 'too-large', sizeBytes: Number(tooLarge[1]) };
  if (status === 'present' && /^[A-Za-z0-9+/=\s]*$/.test(body)) {
    const bytes = Buffer.from(body.replace(/\s/g, ''), 'base64');
    return {
      kind: 'read',
      text: bytes.subarray(0, maxBytes).toString('utf8'),
      truncated: bytes.length > maxBytes,
    };
  }
  throw new Error(`could not read results.json in the grader container: ${JSON.stringify(status.slice(0, 80))}`);
}
