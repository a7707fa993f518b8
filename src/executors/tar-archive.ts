import tar from 'tar-stream';
import type { FileTree } from './executor.js';

export interface TarEntry {
  path: string;
  bytes?: Uint8Array;
  mode?: number;
  directory?: boolean;
}

/** Packs entries into an in-memory tar: Docker takes build contexts and copied files only as tar, a pod its input. */
export async function packTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const finished = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  // A fixed mtime keeps the build context byte-identical, so Docker's layer cache hits.
  const mtime = new Date(0);
  for (const entry of entries) {
    if (entry.directory) {
      pack.entry({ name: entry.path, type: 'directory', mode: entry.mode ?? 0o755, mtime });
    } else {
      pack.entry({ name: entry.path, mode: entry.mode ?? 0o644, mtime }, Buffer.from(entry.bytes ?? new Uint8Array()));
    }
  }
  pack.finalize();
  await finished;
  return Buffer.concat(chunks);
}

/** The entries of a file tree placed under `prefix`, sorted for reproducible archives. */
export function treeEntries(prefix: string, tree: FileTree): TarEntry[] {
  return [...tree.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, file]) => ({ path: `${prefix}/${path}`, bytes: file.bytes, mode: file.mode }));
}

/** Reads the first file of a tar archive, keeping at most `maxBytes` of it. */
export async function readFirstFileFromTar(
  archive: NodeJS.ReadableStream,
  maxBytes: number,
): Promise<{ bytes: Buffer; truncated: boolean } | null> {
  const extract = tar.extract();
  let found: { bytes: Buffer; truncated: boolean } | null = null;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        if (found || header.type !== 'file') return;
        const room = maxBytes - size;
        if (chunk.length > room) truncated = true;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        size += Math.min(room, chunk.length);
      });
      stream.on('end', () => {
        if (!found && header.type === 'file') found = { bytes: Buffer.concat(chunks), truncated };
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  archive.pipe(extract);
  await done;
  return found;
}
