import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { findTestFiles, needsTestFiles } from '../../scripts/lib/find-test-files.js';

describe('the test harness', () => {
  it('adds test files only to a node --test command that names none', () => {
    const base = ['node', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec'];
    assert.equal(needsTestFiles(base), true);
    assert.equal(needsTestFiles([...base, 'test/services/mosquitto.test.ts']), false);
    assert.equal(needsTestFiles(['bash', '-c', 'env']), false);
  });

  it('lists every *.test.ts under src/ and test/, sorted, this file included', async () => {
    const files = await findTestFiles(fileURLToPath(new URL('../..', import.meta.url)));
    assert.ok(files.includes('test/services/harness.test.ts'));
    assert.ok(files.every((file) => /^(src|test)\/.+\.test\.ts$/.test(file)));
    assert.deepEqual(files, [...files].sort());
  });
});
