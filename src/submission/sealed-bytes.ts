import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing of the payload bytes GreenGrader keeps at rest (opt-in raw retention, quarantine).
 * A sealed value is self-describing: `version (1) | key id length (1) | key id | IV (12) | tag (16) | ciphertext`,
 * so a value sealed with an older key still opens as long as that key is in the keyring.
 */

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

interface RetentionKey {
  id: string;
  key: Buffer;
}

/** The keys that open sealed values; `current` seals new ones. Empty when no key is configured. */
export interface RetentionKeyring {
  current: RetentionKey | null;
  byId: ReadonlyMap<string, Buffer>;
}

/** Thrown when a keyring file or variable is malformed: the message names the line, never the key. */
export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** Thrown when sealed bytes cannot be opened: unknown key id, wrong context, tampered or truncated. */
export class SealedBytesError extends Error {
  override name = 'SealedBytesError';
}

export const emptyKeyring: RetentionKeyring = { current: null, byId: new Map() };

/**
 * Parses `id:base64key` lines (blank lines and `#` comments skipped); the first key is the current one.
 * `source` names where the text came from, for the error message.
 */
export function parseKeyring(text: string, source: string): RetentionKeyring {
  const keys: RetentionKey[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source} line ${index + 1}`;
    const colon = line.indexOf(':');
    if (colon < 0) throw new KeyringError(`${where}: expected id:base64key`);
    const id = line.slice(0, colon);
    if (!KEY_ID.test(id)) throw new KeyringError(`${where}: key id must be 1-64 of A-Z a-z 0-9 . _ -`);
    const encoded = line.slice(colon + 1);
    // 32 bytes are 43 base64 characters plus one `=` of padding (optional here).
    if (!/^[A-Za-z0-9+/]{43}=?$/.test(encoded)) {
      throw new KeyringError(`${where}: key "${id}" must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (keys.some((k) => k.id === id)) throw new KeyringError(`${where}: key id "${id}" appears twice`);
    keys.push({ id, key });
  });
  if (keys.length === 0) throw new KeyringError(`${source}: no key (expected id:base64key lines)`);
  return { current: keys[0] ?? null, byId: new Map(keys.map((k) => [k.id, k.key])) };
}

/** A fresh key line for a keyring file: `id:base64key`. */
export function generateKeyLine(id: string): string {
  if (!KEY_ID.test(id)) throw new KeyringError(`key id must be 1-64 of A-Z a-z 0-9 . _ -`);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * Seals `plaintext` with the keyring's current key. `context` (e.g. `raw_payloads:<sha256>`) is authenticated but
 * not stored: a value copied into another row does not open there.
 */
export function sealBytes(keyring: RetentionKeyring, plaintext: Uint8Array, context: string): Buffer {
  const current = keyring.current;
  if (!current) throw new SealedBytesError('no retention key configured (RETENTION_KEYS_FILE or RETENTION_KEY)');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', current.key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const id = Buffer.from(current.id, 'utf8');
  return Buffer.concat([Buffer.from([FORMAT_VERSION, id.length]), id, iv, cipher.getAuthTag(), ciphertext]);
}

/** The key id a sealed value names, or throws when the header is malformed. */
export function sealedKeyId(sealed: Uint8Array): string {
  return readHeader(sealed).keyId;
}

/** Opens a value sealed by sealBytes with the same `context`; refuses anything altered. */
export function openSealed(keyring: RetentionKeyring, sealed: Uint8Array, context: string): Buffer {
  const { keyId, iv, tag, ciphertext } = readHeader(sealed);
  const key = keyring.byId.get(keyId);
  if (!key) throw new SealedBytesError(`sealed with key "${keyId}", which is not in the keyring`);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SealedBytesError(`sealed value failed authentication (tampered, or not sealed for ${context})`);
  }
}

function readHeader(sealed: Uint8Array) {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < 2 || bytes[0] !== FORMAT_VERSION) throw new SealedBytesError('not a sealed value (version)');
  const idEnd = 2 + (bytes[1] ?? 0);
  if (bytes.length < idEnd + IV_BYTES + TAG_BYTES) throw new SealedBytesError('sealed value truncated');
  return {
    keyId: bytes.subarray(2, idEnd).toString('utf8'),
    iv: bytes.subarray(idEnd, idEnd + IV_BYTES),
    tag: bytes.subarray(idEnd + IV_BYTES, idEnd + IV_BYTES + TAG_BYTES),
    ciphertext: bytes.subarray(idEnd + IV_BYTES + TAG_BYTES),
  };
}

/** Bytes as a row keeps them: `bytesKeyId` names the key that sealed `bytes`, null when they are plaintext. */
export interface KeptBytes {
  bytes: Buffer;
  bytesKeyId: string | null;
}

/** Sealed with the current key when the keyring has one; plaintext otherwise (the operator was warned at start). */
export function keepBytes(keyring: RetentionKeyring, plaintext: Uint8Array, context: string): KeptBytes {
  if (!keyring.current) return { bytes: Buffer.from(plaintext), bytesKeyId: null };
  return { bytes: sealBytes(keyring, plaintext, context), bytesKeyId: keyring.current.id };
}

/** The plaintext of what keepBytes kept. */
export function readKeptBytes(keyring: RetentionKeyring, kept: KeptBytes, context: string): Buffer {
  return kept.bytesKeyId === null ? kept.bytes : openSealed(keyring, kept.bytes, context);
}

/** The authenticated context of a table's sealed bytes: a value copied to another row or table does not open. */
export const sealContext = {
  rawPayload: (sha256: string) => `raw_payloads:${sha256}`,
  rejectedMessage: (id: string) => `rejected_messages:${id}`,
};
