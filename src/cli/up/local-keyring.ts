import { writeFile } from 'node:fs/promises';
import { generateKeyLine } from '../../submission/sealed-bytes.js';

/**
 * Makes sure `file` holds a retention keyring, generating one key the first time (mode 600, next to the other
 * secrets `up` keeps), so what `up` quarantines or retains is sealed from the start.
 */
export async function localKeyring(file: string): Promise<string> {
  const id = `up-${new Date().toISOString().slice(0, 10)}`;
  try {
    await writeFile(file, `${generateKeyLine(id)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Already there: keep it, or everything sealed with it would no longer open.
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  }
  return file;
}
