// The zips bench:ingest publishes: seed-style gradescope_data.zip files, each unique (its sha256 identifies it).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildGradescopeZip } from '../test/support/gradescope-zip.js';
import type { PayloadFile } from './ingest-publish.js';

/**
 * Writes `count` zips into `dir`. Each differs in hostname.txt; `paddingBytes` of random (incompressible) data
 * in the submission make a zip of about that size.
 */
export async function writePayloadFiles(
  dir: string,
  label: string,
  count: number,
  paddingBytes = 0,
): Promise<PayloadFile[]> {
  await mkdir(dir, { recursive: true });
  const files: PayloadFile[] = [];
  for (let i = 0; i < count; i++) {
    const extra: Record<string, Uint8Array> =
      paddingBytes > 0 ? { 'autograder/submission/data.bin': randomBytes(paddingBytes) } : {};
    const bytes = await buildGradescopeZip({ hostname: `10.9.${label}.${i} ${Date.now()}\n`, extra });
    const file = path.join(dir, `${label}-${i}.zip`);
    await writeFile(file, bytes);
    files.push({ path: file, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length });
  }
  return files;
}
