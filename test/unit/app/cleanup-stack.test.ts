import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CleanupStack } from '../../../src/app/cleanup-stack.js';

/** A stop that notes its name in `log`. */
function noting(log: string[], name: string): () => Promise<void> {
  return () => {
    log.push(name);
    return Promise.resolve();
  };
}

describe('the cleanup stack', () => {
  it('stops the newest first', async () => {
    const stopped: string[] = [];
    const cleanup = new CleanupStack(() => assert.fail('nothing fails here'));
    for (const name of ['database', 'worker', 'bridge']) cleanup.push(name, noting(stopped, name));
    await cleanup.runAll();
    assert.deepEqual(stopped, ['bridge', 'worker', 'database']);
  });

  it('keeps going when one stop fails, and reports that one', async () => {
    const stopped: string[] = [];
    const failures: string[] = [];
    const cleanup = new CleanupStack((what, error) => failures.push(`${what}: ${String(error)}`));
    cleanup.push('database', noting(stopped, 'database'));
    cleanup.push('worker', () => Promise.reject(new Error('connection lost')));
    await cleanup.runAll();
    assert.deepEqual(stopped, ['database']);
    assert.deepEqual(failures, ['worker: Error: connection lost']);
  });

  it('stops each thing once, however often it runs', async () => {
    const stopped: string[] = [];
    const cleanup = new CleanupStack(() => undefined);
    cleanup.push('pool', noting(stopped, 'pool'));
    await cleanup.runAll();
    await cleanup.runAll();
    assert.deepEqual(stopped, ['pool']);
  });

  it('stops what a failed start had opened, then rethrows', async () => {
    const stopped: string[] = [];
    const cleanup = new CleanupStack(() => undefined);
    await assert.rejects(
      cleanup.unwindOnFailure(() => {
        cleanup.push('database', noting(stopped, 'database'));
        return Promise.reject(new Error('Temporal unreachable'));
      }),
      /Temporal unreachable/,
    );
    assert.deepEqual(stopped, ['database']);
  });
});
