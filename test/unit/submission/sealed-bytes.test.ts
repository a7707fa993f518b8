import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  emptyKeyring,
  generateKeyLine,
  KeyringError,
  openSealed,
  parseKeyring,
  sealBytes,
  SealedBytesError,
  sealedKeyId,
} from '../../../src/submission/sealed-bytes.js';

const plaintext = Buffer.from('PK\u0003\u0004 Jane Doe jane.doe@example.edu A12345678');
const oldLine = generateKeyLine('2025-01');
const newLine = generateKeyLine('2026-06');

describe('sealed bytes', () => {
  it('opens back to exactly the plaintext, and the ciphertext does not contain it', () => {
    const keyring = parseKeyring(oldLine, 'test');
    const sealed = sealBytes(keyring, plaintext, 'raw_payloads:abc');
    assert.equal(sealed.includes(Buffer.from('Jane Doe')), false);
    assert.equal(sealedKeyId(sealed), '2025-01');
    assert.deepEqual(openSealed(keyring, sealed, 'raw_payloads:abc'), plaintext);
  });

  it('uses a fresh IV each time, so equal plaintexts seal differently', () => {
    const keyring = parseKeyring(oldLine, 'test');
    assert.notDeepEqual(sealBytes(keyring, plaintext, 'c'), sealBytes(keyring, plaintext, 'c'));
  });

  it('opens a value sealed with the old key after a new key is added first', () => {
    const sealedWithOld = sealBytes(parseKeyring(oldLine, 'test'), plaintext, 'c');
    const rotated = parseKeyring(`${newLine}\n${oldLine}\n`, 'test');
    assert.equal(rotated.current?.id, '2026-06');
    assert.equal(sealedKeyId(sealBytes(rotated, plaintext, 'c')), '2026-06');
    assert.deepEqual(openSealed(rotated, sealedWithOld, 'c'), plaintext);
  });

  it('refuses a value whose key was removed from the keyring, naming the key', () => {
    const sealedWithOld = sealBytes(parseKeyring(oldLine, 'test'), plaintext, 'c');
    assert.throws(() => openSealed(parseKeyring(newLine, 'test'), sealedWithOld, 'c'), /key "2025-01"/);
  });

  it('refuses tampered ciphertext, a tampered tag and a value moved to another row', () => {
    const keyring = parseKeyring(oldLine, 'test');
    const sealed = sealBytes(keyring, plaintext, 'raw_payloads:abc');
    const flipLast = Buffer.from(sealed);
    flipLast[flipLast.length - 1]! ^= 1;
    assert.throws(() => openSealed(keyring, flipLast, 'raw_payloads:abc'), SealedBytesError);
    const tagAt = 2 + '2025-01'.length + 12;
    const flipTag = Buffer.from(sealed);
    flipTag[tagAt]! ^= 1;
    assert.throws(() => openSealed(keyring, flipTag, 'raw_payloads:abc'), SealedBytesError);
    assert.throws(() => openSealed(keyring, sealed, 'raw_payloads:def'), /failed authentication/);
    assert.throws(() => openSealed(keyring, sealed.subarray(0, 20), 'raw_payloads:abc'), /truncated/);
  });

  it('refuses to seal without a key', () => {
    assert.throws(() => sealBytes(emptyKeyring, plaintext, 'c'), /no retention key/);
  });

  it('names the bad line of a keyring, never the key', () => {
    const cases: [string, RegExp][] = [
      ['justakey', /line 1: expected id:base64key/],
      [`# comment\n\nbad id!:${oldLine.split(':')[1]}`, /line 3: key id/],
      ['short:AAAA', /line 1: key "short" must be 32 bytes/],
      [`${oldLine}\n${oldLine}`, /line 2: key id "2025-01" appears twice/],
      ['# only a comment', /no key/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseKeyring(text, 'keys.txt'),
        (error: unknown) => {
          assert.ok(error instanceof KeyringError);
          assert.match(error.message, message);
          assert.equal(error.message.includes(oldLine.split(':')[1]!), false);
          return true;
        },
      );
    }
  });
});
