import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarkerSplit } from '../../../../src/executors/docker/marker-split.js';

/** Feeds `chunks` through a split at `marker`; returns what each side got and how often the marker was seen. */
function split(marker: string, chunks: string[], flush = false) {
  const before: Buffer[] = [];
  const after: Buffer[] = [];
  let seen = 0;
  const sink = new MarkerSplit(
    Buffer.from(marker),
    { write: (chunk: Buffer) => before.push(Buffer.from(chunk)) },
    { write: (chunk: Buffer) => after.push(Buffer.from(chunk)) },
    () => seen++,
  );
  for (const chunk of chunks) sink.write(Buffer.from(chunk));
  if (flush) sink.flush();
  return { before: Buffer.concat(before).toString(), after: Buffer.concat(after).toString(), seen };
}

describe('a marker split of an output stream', () => {
  it('passes what precedes the marker to one side and what follows to the other, dropping the marker', () => {
    assert.deepEqual(split('<M>', ['abc<M>def', 'ghi']), { before: 'abc', after: 'defghi', seen: 1 });
  });

  it('finds a marker split across chunks, a byte at a time', () => {
    assert.deepEqual(split('<MARK>', [...'ab<MARK>cd']), { before: 'ab', after: 'cd', seen: 1 });
  });

  it('counts only the first occurrence: a later copy of the marker is plain output', () => {
    assert.deepEqual(split('<M>', ['a<M>b', '<M>c']), { before: 'a', after: 'b<M>c', seen: 1 });
  });

  it("holds back at most the marker's length less one, and hands it over on flush", () => {
    assert.deepEqual(split('<MARK>', ['hello <MA']), { before: 'hell', after: '', seen: 0 });
    assert.deepEqual(split('<MARK>', ['hello <MA'], true), { before: 'hello <MA', after: '', seen: 0 });
  });
});
