// A process's copy of the book takes a partial read (the buckets written after a version) only on top of the copy
// it was asked against: a partial read that lands after that copy was dropped or cut would otherwise become a copy
// missing every older bucket, with its version already past them, which no later read would bring back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OccupancyCache, type OccupancyRow } from '../../../src/db/occupancy-cache.js';

const FROM = 5_000_000;
const row = (buckets: string, lastVersion: number, epoch = 1): OccupancyRow => ({
  candidate_id: 'n1',
  buckets,
  last_version: String(lastVersion),
  epoch: String(epoch),
});
const busyOf = (cache: OccupancyCache) => [...(cache.occupancy(['n1']).busy.get('n1') ?? [])];

describe('OccupancyCache', () => {
  it('applies a partial read on top of the copy it was asked against', () => {
    const cache = new OccupancyCache();
    assert.deepEqual(cache.apply([row('0:3:60000;1:5:120000', 5)], FROM, new Map()), []);
    assert.deepEqual(cache.current(['n1'], FROM), { since: [5], epoch: 1 });
    assert.deepEqual(cache.apply([row('2:6:30000', 6)], FROM, new Map([['n1', 5]])), []);
    assert.deepEqual(busyOf(cache), [
      [FROM, 60_000],
      [FROM + 1, 120_000],
      [FROM + 2, 30_000],
    ]);
    assert.deepEqual(cache.current(['n1'], FROM), { since: [6], epoch: 1 });
  });

  it('drops, to be read whole, a partial read whose copy was dropped while it was on its way', () => {
    const cache = new OccupancyCache();
    cache.apply([row('0:3:60000;1:5:120000', 5)], FROM, new Map());
    const since = cache.since(['n1'], FROM);
    cache.forget(['n1']);
    assert.deepEqual(cache.apply([row('2:6:30000', 6)], FROM, new Map([['n1', since[0]!]])), ['n1']);
    assert.equal(cache.current(['n1'], FROM), null, 'no copy to plan on');
    assert.deepEqual(cache.since(['n1'], FROM), [0], 'the next read is whole');
  });

  it('drops a partial read from before a cut made while it was on its way, and one at another epoch', () => {
    const cache = new OccupancyCache();
    cache.apply([row('0:3:60000;1:5:120000', 5)], FROM, new Map());
    // Another plan's read from a later bucket cuts the copy there.
    cache.apply([row('', 5)], FROM + 1, new Map([['n1', 5]]));
    assert.deepEqual(cache.apply([row('0:7:90000', 7)], FROM, new Map([['n1', 5]])), ['n1']);
    assert.deepEqual(cache.since(['n1'], FROM), [0]);

    cache.apply([row('0:3:60000', 3)], FROM, new Map());
    assert.deepEqual(cache.apply([row('1:4:1000', 4, 2)], FROM, new Map([['n1', 3]])), ['n1']);
    assert.equal(cache.current(['n1'], FROM), null);
  });

  it('offers the copy to plan on only when every candidate has one from that bucket, at one epoch', () => {
    const cache = new OccupancyCache();
    cache.apply([row('0:3:60000', 3), { ...row('', 0), candidate_id: 'n2' }], FROM, new Map());
    assert.deepEqual(cache.current(['n1', 'n2'], FROM + 1), { since: [3, 0], epoch: 1 });
    assert.deepEqual(busyOf(cache), [], 'buckets before the plan are dropped, as a read from there leaves them out');
    assert.equal(cache.current(['n1', 'n2'], FROM), null, 'cut after the bucket asked for');
    assert.equal(cache.current(['n1', 'n3'], FROM + 1), null, 'a candidate without a copy');
    cache.apply([{ ...row('', 0, 2), candidate_id: 'n3' }], FROM + 1, new Map());
    assert.equal(cache.current(['n1', 'n3'], FROM + 1), null, 'copies read at two epochs');
  });
});
