import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseResultsTrailer } from '../../../../src/executors/docker/results-trailer.js';

const base64 = (text: string): string =>
  (
    Buffer.from(text)
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\n');

describe("the results part of a grader container's trailer", () => {
  it('reads a regular file from its base64 lines', () => {
    const json = JSON.stringify({ score: 7, output: 'x'.repeat(200) });
    assert.deepEqual(parseResultsTrailer(`present\n${base64(json)}\n`, 4096), {
      kind: 'read',
      text: json,
      truncated: false,
    });
  });

  it('cuts a file that holds one byte over the cap, and says so', () => {
    assert.deepEqual(parseResultsTrailer(`present\n${base64('abcde')}\n`, 4), {
      kind: 'read',
      text: 'abcd',
      truncated: true,
    });
  });

  it('tells an absent file, a special file and a file over the cap apart', () => {
    assert.deepEqual(parseResultsTrailer('absent\n', 10), { kind: 'absent' });
    assert.deepEqual(parseResultsTrailer('not-regular\n', 10), { kind: 'not-a-file' });
    assert.deepEqual(parseResultsTrailer('too-large 1073741824\n', 10), { kind: 'too-large', sizeBytes: 1073741824 });
  });

  it('rejects a trailer it does not understand, with what it found', () => {
    assert.throws(() => parseResultsTrailer('unreadable\n', 10), /could not read results\.json.*"unreadable"/);
    assert.throws(() => parseResultsTrailer('present\n{not base64}\n', 10), /could not read results\.json/);
  });
});
