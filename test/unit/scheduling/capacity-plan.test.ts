import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ZoneForecast } from '../../../src/carbon/provider.js';
import {
  CAPACITY_BUCKET_MS,
  EMPTY_OCCUPANCY,
  bucketOf,
  bucketSpan,
  busyByBucket,
  type Occupancy,
} from '../../../src/shared/capacity-buckets.js';
import { planWithCapacity } from '../../../src/scheduling/capacity-plan.js';
import { startMargin } from '../../../src/scheduling/start-margin.js';
import { fullPeriods } from '../../../src/shared/capacity-instants.js';
import { type PlacementCandidate, type PlacementInput, planPlacement } from '../../../src/scheduling/policies.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Date.parse('2023-06-01T00:00:00Z');

const forecast = (zone: string, values: number[]): ZoneForecast => ({
  zone,
  basis: 'average',
  source: 'test',
  issuedAtMs: T0,
  startMs: T0,
  stepMs: HOUR,
  valuesGCo2PerKwh: values,
});
const node = (id: string, zone: string, capacity?: number): PlacementCandidate => ({
  id,
  kind: 'docker-node',
  region: id,
  zone,
  freeSlots: 2,
  ...(capacity === undefined ? {} : { capacity }),
});
// hour:                               0    1    2    3    4    5    6    7
const forecasts = [
  forecast('ZA', [300, 300, 100, 150, 300, 300, 300, 300]),
  forecast('ZB', [200, 200, 200, 50, 200, 200, 200, 200]),
];
const input = (overrides: Partial<PlacementInput>): PlacementInput => ({
  policy: 'temporal',
  candidates: [node('a', 'ZA', 1), node('b', 'ZB', 1)],
  homeCandidateId: 'a',
  nowMs: T0,
  deadlineMs: T0 + 4 * HOUR,
  estimatedDurationMs: 10 * MIN,
  forecasts,
  ...overrides,
});

/** Occupancy with `count` runs busy on the candidate for the whole of every bucket of [fromMs, toMs). */
function occupied(entries: Array<{ id: string; fromMs: number; toMs: number; count?: number }>): Occupancy {
  const busy = new Map<string, Map<number, number>>();
  for (const { id, fromMs, toMs, count = 1 } of entries) {
    const buckets = busy.get(id) ?? new Map<number, number>();
    for (let b = bucketOf(fromMs); b < bucketOf(toMs); b += 1)
      buckets.set(b, (buckets.get(b) ?? 0) + count * CAPACITY_BUCKET_MS);
    busy.set(id, buckets);
  }
  return { busy, full: new Map() };
}

const busyOnly = (busy: Occupancy['busy']): Occupancy => ({ busy, full: new Map() });

describe('planWithCapacity', () => {
  it('is the policy plan itself when its slot has room', () => {
    for (const policy of ['immediate-home', 'spatial', 'temporal', 'spatiotemporal']) {
      const request = input({ policy });
      const plan = planWithCapacity(request, EMPTY_OCCUPANCY);
      const free = planPlacement(request);
      assert.deepEqual([plan.candidateId, plan.startMs, plan.deadlineMissed], [free.candidate.id, free.startMs, false]);
    }
  });

  it('counts every bucket a run touches', () => {
    assert.deepEqual(bucketSpan(T0 + 4 * MIN, 2 * MIN), { first: bucketOf(T0), last: bucketOf(T0) + 1 });
    assert.deepEqual(bucketSpan(T0, CAPACITY_BUCKET_MS), { first: bucketOf(T0), last: bucketOf(T0) });
  });

  it('counts the busy time a run puts into each bucket, not whole buckets', () => {
    assert.deepEqual(busyByBucket(T0 + 4 * MIN, 2 * MIN), { first: bucketOf(T0), busyMs: [MIN, MIN] });
    assert.deepEqual(busyByBucket(T0, 12 * MIN), { first: bucketOf(T0), busyMs: [5 * MIN, 5 * MIN, 2 * MIN] });
  });

  it('two 1-min runs share a 1-slot 5-min bucket; a run longer than the room left does not', () => {
    const request = input({ policy: 'immediate-home', deadlineMs: T0, estimatedDurationMs: MIN });
    const oneRun = busyOnly(new Map([['a', new Map([[bucketOf(T0), MIN]])]]));
    const second = planWithCapacity(request, oneRun);
    assert.deepEqual([second.candidateId, second.startMs, second.deadlineMissed], ['a', T0, false]);
    // 4 min booked: a 1-min run still fits now, a 2-min run waits for the next bucket.
    const fourMin = busyOnly(new Map([['a', new Map([[bucketOf(T0), 4 * MIN]])]]));
    assert.equal(planWithCapacity(request, fourMin).startMs, T0);
    const longer = planWithCapacity({ ...request, estimatedDurationMs: 2 * MIN }, fourMin);
    assert.deepEqual([longer.startMs, longer.deadlineMissed], [T0 + CAPACITY_BUCKET_MS, true]);
  });

  it('a start needs a free slot at its instant: an overlap on a 1-slot node moves to the instant it frees', () => {
    // A 2-min run booked at T0 + 1 min: the bucket holds 2 of its 5 min, so busy time alone would let a 2-min run
    // start at T0 and overlap it; the second run starts the instant the booked one ends instead.
    const booked = { startMs: T0 + MIN, endMs: T0 + 3 * MIN };
    const occupancy: Occupancy = {
      busy: new Map([['a', new Map([[bucketOf(T0), 2 * MIN]])]]),
      full: new Map([['a', fullPeriods([booked], 1)]]),
    };
    const request = input({ policy: 'immediate-home', deadlineMs: T0 + 10 * MIN, estimatedDurationMs: 2 * MIN });
    const plan = planWithCapacity(request, occupancy);
    assert.deepEqual([plan.candidateId, plan.startMs, plan.deadlineMissed], ['a', T0 + 3 * MIN, false]);
    // A policy that may move takes another candidate free now instead.
    const moved = planWithCapacity({ ...request, policy: 'spatial' }, occupancy);
    assert.deepEqual([moved.candidateId, moved.startMs], ['b', T0]);
  });

  it('with both slots of a 2-slot node taken at once, a start inside that overlap waits for the first to end', () => {
    const occupancy: Occupancy = {
      busy: new Map([['a', new Map([[bucketOf(T0), 5 * MIN]])]]),
      full: new Map([
        [
          'a',
          fullPeriods(
            [
              { startMs: T0, endMs: T0 + 3 * MIN },
              { startMs: T0 + MIN, endMs: T0 + 3 * MIN + 30_000 },
            ],
            2,
          ),
        ],
      ]),
    };
    const two = [node('a', 'ZA', 2), node('b', 'ZB', 2)];
    const request = input({
      policy: 'immediate-home',
      candidates: two,
      deadlineMs: T0 + HOUR,
      estimatedDurationMs: MIN,
    });
    // At T0 one slot is free for 1 min: the run fits there. A 90-s run would meet the overlap from T0 + 1 min.
    assert.equal(planWithCapacity(request, occupancy).startMs, T0);
    const longer = planWithCapacity({ ...request, estimatedDurationMs: 90_000 }, occupancy);
    assert.equal(longer.startMs, T0 + 3 * MIN);
  });

  it('temporal at a full green hour takes the cleanest start at home that still has room', () => {
    // Hour 2 (100 g) is full; inside it nothing fits, and hour 3 (150 g) is the next best at home.
    const full = occupied([{ id: 'a', fromMs: T0 + 2 * HOUR, toMs: T0 + 3 * HOUR }]);
    const plan = planWithCapacity(input({}), full);
    assert.equal(plan.candidateId, 'a');
    assert.equal(plan.startMs, T0 + 3 * HOUR);
    assert.equal(plan.expectedIntensityGCo2PerKwh, 150);
    assert.equal(plan.deadlineMissed, false);
    assert.equal(plan.waitsOnlyForRoom, false, 'a green-hour start is the policy choice, not a wait for room');
    assert.match(plan.notes.join('\n'), /capacity: a is full/);
  });

  it('a run whose window would reach into a full bucket is not placed there', () => {
    // Only the last 5 min of hour 2 are taken: a 10-min run fits from 2:00 to 2:45 but not at 2:50.
    const tail = occupied([{ id: 'a', fromMs: T0 + 2 * HOUR, toMs: T0 + 2 * HOUR + 5 * MIN }]);
    const plan = planWithCapacity(input({}), tail);
    assert.equal(plan.startMs, T0 + 2 * HOUR + 5 * MIN);
    assert.equal(plan.expectedIntensityGCo2PerKwh, 100);
  });

  it('spatiotemporal spills to the next best candidate when the cleanest slot is taken', () => {
    const full = occupied([{ id: 'b', fromMs: T0 + 3 * HOUR, toMs: T0 + 4 * HOUR }]);
    const plan = planWithCapacity(input({ policy: 'spatiotemporal' }), full);
    assert.deepEqual([plan.candidateId, plan.startMs], ['a', T0 + 2 * HOUR]);
  });

  it('immediate-home at a full home waits for the earliest start with room, within the deadline', () => {
    const busy = occupied([{ id: 'a', fromMs: T0, toMs: T0 + 20 * MIN }]);
    const plan = planWithCapacity(input({ policy: 'immediate-home' }), busy);
    assert.deepEqual([plan.candidateId, plan.startMs, plan.deadlineMissed], ['a', T0 + 20 * MIN, false]);
    // The policy wanted now: the product waits in the lane queue rather than in booking order.
    assert.equal(plan.waitsOnlyForRoom, true);
  });

  it('with no room before the deadline, takes the earliest start after it and records the miss', () => {
    const busy = occupied([
      { id: 'a', fromMs: T0, toMs: T0 + 5 * HOUR },
      { id: 'b', fromMs: T0, toMs: T0 + 4 * HOUR + 30 * MIN },
    ]);
    const plan = planWithCapacity(input({ policy: 'spatiotemporal' }), busy);
    assert.deepEqual([plan.candidateId, plan.startMs, plan.deadlineMissed], ['b', T0 + 4 * HOUR + 30 * MIN, true]);
    assert.match(plan.notes.join('\n'), /starts 30 min after it/);
  });

  it('aims one estimated run length before the deadline, at most a quarter of the window', () => {
    assert.equal(startMargin(10 * MIN, 6 * HOUR), 10 * MIN);
    assert.equal(startMargin(5 * MIN, 60_000), 15_000, 'a 1-min slack keeps 45 s of choice');
    assert.equal(startMargin(5 * MIN, 0), 0);
  });

  it('on finite capacity starts by the deadline less its margin; unlimited keeps the deadline', () => {
    // Hour 2 is the cleanest at home and the deadline is 1:55: the cleanest start is the deadline itself
    // ([1:55, 2:05) averages 200 g, every earlier 10-min window 300 g).
    const request = input({ deadlineMs: T0 + HOUR + 55 * MIN, startMarginMs: 10 * MIN });
    const unlimited = [node('a', 'ZA'), node('b', 'ZB')];
    const free = planWithCapacity({ ...request, candidates: unlimited }, EMPTY_OCCUPANCY);
    assert.deepEqual([free.startMs, free.expectedIntensityGCo2PerKwh], [T0 + HOUR + 55 * MIN, 200]);
    const finite = planWithCapacity(request, EMPTY_OCCUPANCY);
    assert.deepEqual([finite.startMs, finite.deadlineMissed], [T0, false]);
    assert.match(finite.notes.join('\n'), /aims to start by 2023-06-01T01:45:00.000Z, 10 min before the deadline/);
    // Without a margin (older plans) the deadline itself is aimed for, as before.
    const { startMarginMs: _margin, ...withoutMargin } = request;
    assert.equal(planWithCapacity(withoutMargin, EMPTY_OCCUPANCY).startMs, T0 + HOUR + 55 * MIN);
    // Home full until 0:30: the cleanest start with room by the aimed 1:45, not the deadline.
    const early = planWithCapacity(request, occupied([{ id: 'a', fromMs: T0, toMs: T0 + 30 * MIN }]));
    assert.deepEqual([early.startMs, early.deadlineMissed], [T0 + 30 * MIN, false]);
    // Only the candidates the policy may use count: temporal with an unlimited home has no queue, so no margin.
    const unlimitedHome = { ...request, candidates: [node('a', 'ZA'), node('b', 'ZB', 1)] };
    assert.equal(planWithCapacity(unlimitedHome, EMPTY_OCCUPANCY).startMs, T0 + HOUR + 55 * MIN);
    // A margin past the whole window: start now, as at 0-h slack.
    const close = planWithCapacity(input({ deadlineMs: T0 + 5 * MIN, startMarginMs: 10 * MIN }), EMPTY_OCCUPANCY);
    assert.equal(close.startMs, T0);
  });

  it('gives up as little of the margin as room allows, and never the deadline', () => {
    // Home is full until 1:50: of the starts left (1:50 to the 1:55 deadline) 1:55 reaches the clean hour 2, but
    // the earliest keeps the most margin.
    const request = input({ deadlineMs: T0 + HOUR + 55 * MIN, startMarginMs: 10 * MIN });
    const busy = occupied([{ id: 'a', fromMs: T0, toMs: T0 + HOUR + 50 * MIN }]);
    const plan = planWithCapacity(request, busy);
    assert.deepEqual([plan.candidateId, plan.startMs, plan.deadlineMissed], ['a', T0 + HOUR + 50 * MIN, false]);
    // Full until the deadline itself: the deadline is the last start that is not a miss.
    const tight = occupied([{ id: 'a', fromMs: T0, toMs: T0 + HOUR + 55 * MIN }]);
    const last = planWithCapacity(request, tight);
    assert.deepEqual([last.startMs, last.deadlineMissed], [T0 + HOUR + 55 * MIN, false]);
  });

  it('plans without a forecast at the earliest start with room, home first', () => {
    const busy = occupied([{ id: 'a', fromMs: T0, toMs: T0 + 10 * MIN }]);
    const plan = planWithCapacity(input({ policy: 'spatial', forecasts: [] }), busy);
    assert.deepEqual([plan.candidateId, plan.startMs], ['b', T0]);
    const home = planWithCapacity(input({ policy: 'immediate-home', forecasts: [] }), busy);
    assert.deepEqual([home.candidateId, home.startMs], ['a', T0 + 10 * MIN]);
  });

  it('refuses a policy whose only candidate has no capacity at all', () => {
    const request = input({ policy: 'temporal', candidates: [node('a', 'ZA', 0), node('b', 'ZB', 1)] });
    assert.throws(
      () => planWithCapacity(request, EMPTY_OCCUPANCY),
      /no candidate the temporal policy may use has any capacity/,
    );
  });
});
