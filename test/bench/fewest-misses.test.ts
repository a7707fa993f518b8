import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fewestMissesAtZeroSlack, mostOnTime } from '../../bench/fewest-misses.js';
import { createRng } from '../../bench/rng.js';

const run = (receivedMs: number, durationMs: number) => ({ receivedMs, durationMs });

/** The most intervals of `runs` that fit on `slots`: a subset fits when no instant is covered more than `slots` times. */
function bruteForce(runs: readonly { receivedMs: number; durationMs: number }[], slots: number): number {
  let best = 0;
  for (let mask = 0; mask < 1 << runs.length; mask++) {
    const chosen = runs.filter((_, i) => mask & (1 << i));
    const fits = chosen.every(
      (at) =>
        chosen.filter((r) => r.receivedMs <= at.receivedMs && at.receivedMs < r.receivedMs + r.durationMs).length <=
        slots,
    );
    if (fits) best = Math.max(best, chosen.length);
  }
  return best;
}

describe('fewest possible misses at 0-h slack', () => {
  it('counts the runs that cannot start at their arrival on the slots in reach', () => {
    // [0,10) [1,3) [4,6) [5,12): one slot fits 2 of them, two slots 3 (at 5 three runs would overlap).
    const runs = [run(0, 10), run(1, 2), run(4, 2), run(5, 7)];
    assert.equal(mostOnTime(runs, 1), 2);
    assert.equal(mostOnTime(runs, 2), 3);
    assert.equal(mostOnTime(runs, 3), 4);
    // A slot freeing at an instant takes the run starting at it (half-open runs).
    assert.equal(mostOnTime([run(0, 5), run(5, 5)], 1), 2);
  });

  it('matches an exhaustive search on small random instances', () => {
    const rng = createRng(12);
    for (let instance = 0; instance < 300; instance++) {
      const runs = Array.from({ length: 1 + Math.floor(rng.next() * 9) }, () =>
        run(Math.floor(rng.next() * 20), 1 + Math.floor(rng.next() * 8)),
      );
      const slots = 1 + Math.floor(rng.next() * 3);
      assert.equal(mostOnTime(runs, slots), bruteForce(runs, slots), JSON.stringify({ runs, slots }));
    }
  });

  it('pools every candidate for runs that move, and the home alone for runs kept there', () => {
    const runs = [run(0, 10), run(0, 10), run(0, 10), run(20, 1)];
    const bound = fewestMissesAtZeroSlack(
      [
        { id: 'west', capacity: 2 },
        { id: 'east', capacity: 1 },
      ],
      runs,
    );
    assert.deepEqual(bound, { anywhere: 0, atHome: { west: 1, east: 2 } });
    // An unlimited candidate in reach: nothing need miss.
    assert.deepEqual(fewestMissesAtZeroSlack([{ id: 'west', capacity: 1 }, { id: 'cloud' }], runs), {
      anywhere: 0,
      atHome: { west: 2, cloud: 0 },
    });
  });

  it('refuses a negative number of slots', () => {
    assert.throws(() => mostOnTime([run(0, 1)], -1), /slots must be ≥ 0/);
  });
});
