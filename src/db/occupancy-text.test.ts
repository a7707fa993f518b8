import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPACITY_BUCKET_MS } from '../shared/capacity-buckets.js';
import { OccupancyTextError, readBucketsText } from './occupancy-text.js';

const FROM = 5_000_000;
const at = (offset: number, ms: number) => (FROM + offset) * CAPACITY_BUCKET_MS + ms;

describe('readBucketsText', () => {
  it('reads busy time per bucket and full periods from the bucket start, buckets relative to the first read', () => {
    const busy = new Map<number, number>();
    const periods = readBucketsText('3:2400000;0:120000:0,60000,90000,300000;12:7', FROM, busy);
    assert.deepEqual(
      [...busy],
      [
        [FROM + 3, 2_400_000],
        [FROM, 120_000],
        [FROM + 12, 7],
      ],
    );
    assert.deepEqual(periods, [
      {
        bucket: FROM,
        periods: [
          { startMs: at(0, 0), endMs: at(0, 60_000) },
          { startMs: at(0, 90_000), endMs: at(0, 300_000) },
        ],
      },
    ]);
  });

  it('refuses text it does not know, saying where, instead of reading wrong numbers', () => {
    for (const text of ['3:-5', '3', '3:5:1', '3:5:1,', 'a:5', '3:5;;4:1', '3:5 ']) {
      assert.throws(() => readBucketsText(text, FROM, new Map()), OccupancyTextError, text);
    }
    assert.throws(() => readBucketsText('1:5;x', FROM, new Map()), /character 4/);
  });
});
