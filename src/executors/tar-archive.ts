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
