import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { registerSearchAttributes, startTemporal } from '../../src/services/index.js';
import { runCommand } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';

describe('the Temporal launcher', () => {
  it('serves a namespace with search attributes given at launch and added later', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gg-temporal-test-'));
    const cliPath = requireEnv('TEMPORAL_CLI');
    const server = await startTemporal({
      dbFile: path.join(dir, 'temporal.db'),
      namespace: 'gg-launcher-test',
      searchAttributes: { GgLaunchKeyword: 'Keyword' },
      cliPath,
    });
    try {
      assert.match(server.address, /^127\.0\.0\.1:\d+$/);
      assert.equal(server.uiUrl, undefined, 'headless without a uiPort');
      await registerSearchAttributes(
        cliPath,
        server.address,
        { GgLaterInt: 'Int', GgLaterFlag: 'Bool' },
        server.namespace,
      );
      const { stdout } = await runCommand(cliPath, [
        'operator',
        'search-attribute',
        'list',
        '--address',
        server.address,
        '--namespace',
        server.namespace,
        '-o',
        'json',
      ]);
      for (const name of ['GgLaunchKeyword', 'GgLaterInt', 'GgLaterFlag']) assert.match(stdout, new RegExp(name));
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
