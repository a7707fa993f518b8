import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scratchDir } from '../support/scratch-dir.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../src/cli/greengrader.sh', import.meta.url));

describe('the greengrader bin', () => {
  it('runs from any directory through a symlink, as npm installs it', async () => {
    const dir = await scratchDir('gg-bin-');
    await symlink(bin, path.join(dir, 'greengrader'));
    const { stdout } = await run(path.join(dir, 'greengrader'), ['--help'], { cwd: dir });
    assert.match(stdout, /^Usage: greengrader \[options\] \[command\]/);
    for (const command of [
      'up',
      'bridge',
      'worker',
      'submit',
      'rerun',
      'export',
      'status',
      'list',
      'nodes',
      'report',
    ]) {
      assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
    }
  });
});
