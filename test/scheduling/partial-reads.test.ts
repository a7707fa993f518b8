// What a plan may leave unread without changing it, on random books for every built-in policy: the candidates its
// policy cannot use (candidatesPlannedOn), and the full periods inside buckets with no busy time left (migration
// 0015's read leaves them out).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../bench/rng.js';
import type { ZoneForecast } from '../../src/carbon/provider.js';
import { candidatesPlannedOn, planWithCapacity } from '../../src/scheduling/capacity-plan.js';
import type { PlacementCandidate, PlacementInput } from '../../src/scheduling/policies.js';
import {
  type BookedSpan,
  busyByBucket,
  CAPACITY_BUCKET_MS,
  type Occupancy,
} from '../../src/shared/capacity-buckets.js';
import { fullPeriods } from '../../src/shared/capacity-instants.js';
import { withoutSaturatedBuckets } from '../support/expected-full-periods.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;
const POLICIES = ['immediate-home', 'spatial', 'temporal', 'spatiotemporal'];

const CAPACITY = 2;
const candidates: PlacementCandidate[] = ['a', 'b', 'c'].map((id, i) => ({
  id,
  kind: 'docker-node',
  region: id,
  zone: `Z${i}`,
  freeSlots: 2,
  capacity: CAPACITY,
}));
const forecasts: ZoneForecast[] = candidates.map((c, i) => ({
  zone: c.zone,
  basis: 'average',
  source: 'test',
  issuedAtMs: T0,
  startMs: T0,
  stepMs: HOUR,
  valuesGCo2PerKwh: Array.from({ length: 8 }, (_, h) => 200 + 100 * Math.cos(((h + 2 * i) / 8) * 2 * Math.PI)),
}));

/** A book of `runs` random runs over the first 4 hours, as a ledger would hand it to the planner. */
function randomBook(seed: number, runs: number): Occupancy {
  const rng = createRng(seed);
  const busy = new Map<string, Map<number, number>>();
  const spans = new Map<string, BookedSpan[]>();
  for (let i = 0; i < runs; i += 1) {
    const id = candidates[Math.floor(rng.uniform(0, candidates.length))]!.id;
    const startMs = T0 + Math.floor(rng.uniform(0, 4 * 60)) * MIN;
    const durationMs = (1 + Math.floor(rng.uniform(0, 9))) * MIN;
    const { first, busyMs } = busyByBucket(startMs, durationMs);
    const perBucket = busy.get(id) ?? new Map<number, number>();
    busyMs.forEach((ms, k) => perBucket.set(first + k, (perBucket.get(first + k) ?? 0) + ms));
    busy.set(id, perBucket);
    spans.set(id, [...(spans.get(id) ?? []), { startMs, endMs: startMs + durationMs }]);
  }
  const full = new Map([...spans].map(([id, booked]) => [id, fullPeriods(booked, CAPACITY)]));
  return { busy, full };
}

/** The book as a ledger reads it for just these candidates. */
const only = (occupancy: Occupancy, ids: readonly string[]): Occupancy => ({
  busy: new Map([...occupancy.busy].filter(([id]) => ids.includes(id))),
  full: new Map([...occupancy.full].filter(([id]) => ids.includes(id))),
});

/** Every candidate's book and forecast, as the planner takes them. */
const inputOf = (seed: number, policy: string): PlacementInput => ({
  policy,
  candidates,
  homeCandidateId: candidates[seed % candidates.length]!.id,
  nowMs: T0 + (seed % 7) * MIN,
  deadlineMs: T0 + 3 * HOUR,
  estimatedDurationMs: (2 + (seed % 5)) * MIN,
  forecasts,
});

describe('candidatesPlannedOn', () => {
  it('is home alone for the policies that keep runs at home, every candidate for those that move them', () => {
    const ids = (policy: string) => candidatesPlannedOn({ policy, candidates, homeCandidateId: 'b' });
    assert.deepEqual(ids('immediate-home'), ['b']);
    assert.deepEqual(ids('temporal'), ['b']);
    assert.deepEqual(ids('spatial'), ['a', 'b', 'c']);
    assert.deepEqual(ids('spatiotemporal'), ['a', 'b', 'c']);
    assert.deepEqual(ids('not-a-policy'), ['a', 'b', 'c'], 'an unknown policy reads everything');
  });

  it('planning on their occupancy alone gives the plan of the whole book, on 60 random books per policy', () => {
    let moved = 0;
    for (let seed = 1; seed <= 60; seed += 1) {
      // Crowded enough that the chosen slot is often not the policy's first choice.
      const book = randomBook(seed, 40 + seed * 2);
      for (const policy of POLICIES) {
        const input = inputOf(seed, policy);
        const whole = planWithCapacity(input, book);
        const read = planWithCapacity(input, only(book, candidatesPlannedOn(input)));
        assert.deepEqual(read, whole, `seed ${seed}, ${policy}`);
        if (whole.notes.some((note) => note.startsWith('capacity:'))) moved += 1;
      }
    }
    assert.ok(moved > 40, `the books move plans for room (${moved} of 240)`);
  });
});

describe('full periods of buckets with no busy time left', () => {
  it('leaving them out gives the plan of the whole book, on 60 random books per policy', () => {
    let cut = 0;
    for (let seed = 1; seed <= 60; seed += 1) {
      const book = randomBook(seed, 60 + seed * 3);
      const full = new Map(
        [...book.full].map(([id, periods]) => [id, withoutSaturatedBuckets(periods, book.busy.get(id), CAPACITY)]),
      );
      if ([...full].some(([id, periods]) => periods.length !== book.full.get(id)?.length)) cut += 1;
      for (const policy of POLICIES) {
        const input = inputOf(seed, policy);
        assert.deepEqual(
          planWithCapacity(input, { busy: book.busy, full }),
          planWithCapacity(input, book),
          `seed ${seed}, ${policy}`,
        );
      }
    }
    assert.ok(cut > 20, `the books have such buckets inside full periods (${cut} of 60)`);
  });
});
