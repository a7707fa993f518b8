import { readFile, stat } from 'node:fs/promises';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { emptyKeyring, KeyringError, parseKeyring, type RetentionKeyring } from '../submission/sealed-bytes.js';

/**
 * The keyring sealing payloads at rest, from RETENTION_KEYS_FILE or RETENTION_KEY. Refuses a configuration that
 * would keep originals without a key; without any key, warns that quarantined payloads are kept in plaintext.
 * Pass no logger to load silently (CLI commands that only read).
 */
export async function loadRetentionKeyring(config: Config, logger?: Logger): Promise<RetentionKeyring> {
  const keyring = await readKeyring(config, logger);
  if (keyring.current === null && config.RAW_RETENTION_DAYS > 0) {
    throw new KeyringError(
      `RAW_RETENTION_DAYS=${config.RAW_RETENTION_DAYS} keeps original zips, which are only kept encrypted: ` +
        'set RETENTION_KEYS_FILE or RETENTION_KEY (README, "What is stored and for how long")',
    );
  }
  if (keyring.current === null) {
    logger?.warn('no retention key configured: quarantined payloads are kept in PLAINTEXT until purged', {
      quarantineRetentionDays: config.QUARANTINE_RETENTION_DAYS,
      fix: 'set RETENTION_KEYS_FILE or RETENTION_KEY',
    });
  }
  return keyring;
}

async function readKeyring(config: Config, logger?: Logger): Promise<RetentionKeyring> {
  const { RETENTION_KEYS_FILE: file, RETENTION_KEY: inline } = config;
  if (file !== undefined && inline !== undefined) {
    throw new KeyringError('set RETENTION_KEYS_FILE or RETENTION_KEY, not both');
  }
  if (inline !== undefined) return parseKeyring(inline, 'RETENTION_KEY');
  if (file === undefined) return emptyKeyring;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new KeyringError(`RETENTION_KEYS_FILE ${file}: ${(error as Error).message}`, { cause: error });
  }
  // Anyone who can read the keyring can read every sealed payload: say so when others can.
  if (((await stat(file)).mode & 0o077) !== 0) {
    logger?.warn('the retention keyring is readable by other users: chmod 600 it', { file });
  }
  return parseKeyring(text, file);
}
