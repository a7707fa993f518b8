import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { readAnonymiseKey } from '../../src/workers/anonymise-key.js';

void describe('readAnonymiseKey', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gg-anonymise-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('reads the key from ANONYMISE_KEY, or from the file ANONYMISE_KEY_FILE names, without its newline', async () => {
    const fromEnv = await readAnonymiseKey(loadConfig({ ANONYMISE_KEY: 'a key from the environment' }));
    assert.equal(new TextDecoder().decode(fromEnv ?? undefined), 'a key from the environment');
    const file = path.join(dir, 'anonymise-key');
    await writeFile(file, 'a key kept in a file\n', { mode: 0o600 });
    const fromFile = await readAnonymiseKey(loadConfig({ ANONYMISE_KEY_FILE: file }));
    assert.equal(new TextDecoder().decode(fromFile ?? undefined), 'a key kept in a file');
  });

  void it('needs no key when anonymisation is off', async () => {
    assert.equal(await readAnonymiseKey(loadConfig({ ANONYMISE: 'false' })), null);
  });

  void it('refuses to start without a key, with an unreadable key file or with a short key', async () => {
    await assert.rejects(readAnonymiseKey(loadConfig({})), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /set ANONYMISE_KEY or ANONYMISE_KEY_FILE/);
      return true;
    });
    await assert.rejects(
      readAnonymiseKey(loadConfig({ ANONYMISE_KEY_FILE: path.join(dir, 'missing') })),
      /ANONYMISE_KEY_FILE cannot be read/,
    );
    const short = path.join(dir, 'short');
    await writeFile(short, 'short\n');
    await assert.rejects(readAnonymiseKey(loadConfig({ ANONYMISE_KEY_FILE: short })), /at least 16 characters/);
    assert.throws(() => loadConfig({ ANONYMISE_KEY: 'short' }), /ANONYMISE_KEY: must be at least 16 characters/);
  });
});
