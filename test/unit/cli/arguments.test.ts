import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseInstant, parsePort, parseSha256, parseSubmissionId } from '../../../src/cli/arguments.js';

describe('command-line arguments', () => {
  it("accepts Gradescope's numeric submission ids only", () => {
    assert.equal(parseSubmissionId('209522918'), 209522918);
    for (const bad of ['abc', '-1', '0', '1.5', '1e9', '', '99999999999999999999']) {
      assert.throws(() => parseSubmissionId(bad), InvalidArgumentError, bad);
    }
  });

  it('accepts ports, SHA-256s and ISO dates, and refuses look-alikes', () => {
    assert.equal(parsePort('8233'), 8233);
    assert.throws(() => parsePort('70000'), InvalidArgumentError);
    assert.equal(parseSha256('AB'.repeat(32)), 'ab'.repeat(32));
    assert.throws(() => parseSha256('abc'), InvalidArgumentError);
    assert.equal(parseInstant('2024-05-01').toISOString(), '2024-05-01T00:00:00.000Z');
    assert.throws(() => parseInstant('yesterday'), InvalidArgumentError);
  });
});
