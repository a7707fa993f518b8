import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { localKeyring } from '../../src/cli/up/local-keyring.js';
import { parseKeyring } from '../../src/submission/sealed-bytes.js';
import { scratchDir } from '../support/scratch-dir.js';

describe("up's retention keyring", () => {
  it('is generated once with mode 600 and kept across restarts, so sealed values keep opening', async () => {
    const file = path.join(await scratchDir('gg-keyring-'), 'retention-keys');
    await localKeyring(file);
    const first = await readFile(file, 'utf8');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const keyring = parseKeyring(first, file);
    assert.match(keyring.current?.id ?? '', /^up-\d{4}-\d{2}-\d{2}$/);
    await localKeyring(file);
    assert.equal(await readFile(file, 'utf8'), first);
  });
});
