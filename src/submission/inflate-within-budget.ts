import type JSZip from 'jszip';
import { crc32 } from './crc32.js';
import { InvalidSubmissionError } from './errors.js';
import { declaredEntryOf } from './zip-entry-checks.js';
import { entryLabel } from './entry-label.js';

/** Inflates one entry, aborting as soon as it yields more than `budget` bytes, and checks its CRC. */
export function inflateWithinBudget(entry: JSZip.JSZipObject, name: string, budget: number): Promise<Uint8Array> {
  const declared = declaredEntryOf(entry);
  return new Promise((resolve, reject) => {
    let stream: NodeJS.ReadableStream;
    try {
      stream = entry.nodeStream('nodebuffer');
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      reject(new InvalidSubmissionError('corrupt-zip', `Zip ${entryLabel(name)} cannot be read (${detail}).`));
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    let crc = 0;
    let settled = false;
    const fail = (error: InvalidSubmissionError) => {
      if (settled) return;
      settled = true;
      // Paused and unread, the stream stops asking jszip for more, so inflation stops here.
      stream.pause();
      chunks.length = 0;
      reject(error);
    };
    stream.on('data', (chunk: unknown) => {
      if (settled || !(chunk instanceof Uint8Array)) return;
      size += chunk.length;
      if (size > budget) {
        fail(
          new InvalidSubmissionError(
            'too-large-uncompressed',
            `Zip ${entryLabel(name)} inflates past the remaining budget of ${budget} bytes.`,
          ),
        );
        return;
      }
      crc = crc32(chunk, crc);
      chunks.push(chunk);
    });
    stream.on('error', (error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      const message = `Zip ${entryLabel(name)} is corrupt (${detail}).`;
      fail(new InvalidSubmissionError('corrupt-zip', message, { cause: error }));
    });
    stream.on('end', () => {
      if (settled) return;
      if (declared !== null && declared.crc32 !== crc) {
        fail(new InvalidSubmissionError('corrupt-zip', `Zip ${entryLabel(name)} fails its CRC-32 check.`));
        return;
      }
      settled = true;
      resolve(concat(chunks, size));
    });
  });
}

// Copies into a fresh array: Node's small Buffers share a pooled ArrayBuffer with unrelated data.
function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const result = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}
