import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureBaseImage, ensureDockerEngine } from '../../src/services/index.js';
import { runCommand } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';

describe('the Docker engine and base image', () => {
  it('finds the engine the harness made sure of, and leaves it running', async () => {
    const engine = await ensureDockerEngine();
    assert.equal(engine.started, false);
    await engine.stop();
    await runCommand('docker', ['version', '--format', '{{.Server.Version}}']);
  });

  it('has the base image, with bash and python3 like gradescope/autograder-base', async () => {
    const tag = requireEnv('GG_TEST_BASE_IMAGE');
    const image = await ensureBaseImage(tag);
    assert.equal(image.built, false, 'the harness built or found it already');
    const { stdout } = await runCommand('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      tag,
      'bash',
      '-c',
      'python3 -c "print(6 * 7)"',
    ]);
    assert.equal(stdout.trim(), '42');
  });
});
