import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonNestingDepth, MAX_JSON_DEPTH } from '../../../src/submission/json-depth.js';
import { InvalidSubmissionError, parseResultsJson } from '../../../src/submission/index.js';

describe('JSON nesting depth', () => {
  it('counts arrays and objects, not brackets inside strings or escaped quotes', () => {
    assert.equal(jsonNestingDepth('1'), 0);
    assert.equal(jsonNestingDepth('{"a": [1, {"b": []}]}'), 4);
    assert.equal(jsonNestingDepth('{"a": "[[[{{{", "b": "\\"[[["}'), 1);
    assert.equal(jsonNestingDepth('["\\\\", [["x"]]]'), 3);
    // A stray closing bracket first does not hide the depth after it (JSON.parse refuses the text anyway).
    assert.equal(jsonNestingDepth('] [[1]]'), 2);
  });

  it('reads 200,000 levels without overflowing the stack', () => {
    const depth = 200_000;
    assert.equal(jsonNestingDepth('['.repeat(depth) + ']'.repeat(depth)), depth);
  });

  it('refuses results.json past the limit with its reason, and takes it at the limit', () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    // The object itself, "tests", the test and its extra_data array: 3 levels before the nested part.
    const at = (levels: number) => `{"score": 1, "tests": [{"score": 1, "extra_data": ${nested(levels)}}]}`;
    assert.equal(parseResultsJson(at(MAX_JSON_DEPTH - 3)).score, 1);
    assert.throws(() => parseResultsJson(at(MAX_JSON_DEPTH - 2)), /nests deeper than 64 levels/);
    assert.throws(
      () => parseResultsJson(at(100_000)),
      (error: unknown) =>
        error instanceof InvalidSubmissionError &&
        error.reason === 'invalid-results' &&
        /nests deeper/.test(error.message),
    );
  });
});
