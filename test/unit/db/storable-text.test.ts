import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storableJson, storableText } from '../../../src/db/storable-text.js';

describe('storable text', () => {
  it('replaces U+0000 and unpaired surrogates by U+FFFD and counts them', () => {
    assert.deepEqual(storableText('a\u0000b\u0000'), { text: 'a\uFFFDb\uFFFD', replaced: 2 });
    assert.deepEqual(storableText('x\uD800y\uDC00'), { text: 'x\uFFFDy\uFFFD', replaced: 2 });
    // A high surrogate at the very end, and a low one at the very start, have no partner either.
    assert.deepEqual(storableText('\uDC00mid\uD83D'), { text: '\uFFFDmid\uFFFD', replaced: 2 });
  });

  it('leaves well-formed text alone, astral characters and U+FFFD already there included', () => {
    for (const text of ['', 'plain', 'emoji \uD83D\uDE00 pair', 'already \uFFFD', 'tab\tnewline\n']) {
      assert.deepEqual(storableText(text), { text, replaced: 0 });
    }
  });

  it('walks every string of a JSON value, keys included, and keeps other values and Dates as they are', () => {
    const at = new Date('2023-11-15T18:42:00Z');
    const { value, replaced } = storableJson({
      'k\u0000': ['v\uD800', 1, null, true, { nested: 'n\u0000' }],
      at,
      score: 2.5,
    });
    assert.equal(replaced, 3);
    assert.deepEqual(value, { 'k\uFFFD': ['v\uFFFD', 1, null, true, { nested: 'n\uFFFD' }], at, score: 2.5 });
    assert.ok(value.at instanceof Date);
  });
});
