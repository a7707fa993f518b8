import { readFile } from 'node:fs/promises';
import { ConfigError, type Config } from '../config/config.js';

/** Shortest accepted key: 16 characters of a generated secret (`up` writes 24) resist guessing. */
const MIN_KEY_LENGTH = 16;

/**
 * The pseudonym key from ANONYMISE_KEY or the file ANONYMISE_KEY_FILE names, as bytes; null when
 * anonymisation is off. Read once at start-up, so a missing key stops the orchestrator with a clear
 * error instead of failing every submission later.
 */
export async function readAnonymiseKey(config: Config): Promise<Uint8Array | null> {
  if (!config.ANONYMISE) return null;
  let key = config.ANONYMISE_KEY;
  if (key === undefined && config.ANONYMISE_KEY_FILE !== undefined) {
    try {
      key = (await readFile(config.ANONYMISE_KEY_FILE, 'utf8')).trim();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`ANONYMISE_KEY_FILE cannot be read (${detail})`, { cause: error });
    }
  }
  if (key === undefined) {
    throw new ConfigError(
      'ANONYMISE is on but no pseudonym key is set: set ANONYMISE_KEY or ANONYMISE_KEY_FILE (e.g. `openssl rand -base64 32 > key`)',
    );
  }
  if (key.length < MIN_KEY_LENGTH) {
    throw new ConfigError(`the pseudonym key must be at least ${MIN_KEY_LENGTH} characters long`);
  }
  return new TextEncoder().encode(key);
}
