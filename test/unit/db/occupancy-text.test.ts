import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPACITY_BUCKET_MS } from '../../../src/shared/capacity-buckets.js';
import { OccupancyTextError, readBucketChanges } from '../../../src/db/occupancy-text.js';

const FROM = 5_000_000;
const at = (offset: number, ms: number) => (FROM + offset) * CAPACITY_BUCKET_MS + ms;

describe('readBucketChanges', () => {
  it('reads version, busy time and full periods per bucket, buckets relative to the first read', () => {
    const changes = readBucketChanges('3:41:2400000;0:9000000001:120000:0,60000,90000,300000;12:7:7;5:8', FROM);
    assert.deepEqual(changes, [
      { bucket: FROM + 3, version: 41, busyMs: 2_400_000, periods: [] },
      {
        bucket: FROM,
        version: 9_000_000_001,
        busyMs: 120_000,
        periods: [
          { startMs: at(0, 0), endMs: at(0, 60_000) },
          { startMs: at(0, 90_000), endMs: at(0, 300_000) },
        ],
      },
      { bucket: FROM + 12, version: 7, busyMs: 7, periods: [] },
      { bucket: FROM + 5, version: 8, busyMs: null, periods: [] },
    ]);
  });

  it('refuses text it does not know, saying where, instead of reading wrong numbers', () => {
    for (const text of ['3:1:-5', '3', '3:', '3:1:5:1', '3:1:5:1,', 'a:1:5', '3:1:5;;4:1:1', '3:1:5 ', '3:1:']) {
      assert.throws(() => readBucketChanges(text, FROM), OccupancyTextError, text);
    }
    assert.throws(() => readBucketChanges('1:1:5;x', FROM), /character 6/);
  });
});
