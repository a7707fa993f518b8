import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startTemporal } from '../../src/services/index.js';
import { runCommand } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';

describe('the Temporal launcher', () => {
  it('serves the namespace asked for, headless, on a loopback address, its SQLite file in WAL mode', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gg-temporal-test-'));
    const cliPath = requireEnv('TEMPORAL_CLI');
    const server = await startTemporal({
      dbFile: path.join(dir, 'temporal.db'),
      namespace: 'gg-launcher-test',
      cliPath,
    });
    try {
      assert.match(server.address, /^127\.0\.0\.1:\d+$/);
      assert.equal(server.uiUrl, undefined, 'headless without a uiPort');
      const { stdout } = await runCommand(cliPath, [
        'operator',
        'namespace',
        'describe',
        '--address',
        server.address,
        '--namespace',
        server.namespace,
        '-o',
        'json',
      ]);
      assert.match(stdout, /"gg-launcher-test"/);
      // Bytes 18 and 19 of a SQLite file's header are 2 once it is in WAL mode (1: rollback journal).
      const header = Buffer.alloc(20);
      const file = await open(path.join(dir, 'temporal.db'));
      await file.read(header, 0, 20, 0).finally(() => file.close());
      assert.deepEqual([header[18], header[19]], [2, 2], 'the SQLite file keeps a write-ahead log');
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
