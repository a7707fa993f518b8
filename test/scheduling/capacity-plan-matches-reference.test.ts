// The branch-and-bound planner makes exactly the choice of the planner that offered every start (kept in
// reference-capacity-plan.ts), on random ledgers and forecasts: ties, unknown means, partial forecasts, full
// green hours, instants without a free slot and no room before the deadline included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng, type Rng } from '../../bench/rng.js';
import type { ZoneForecast } from '../../src/carbon/provider.js';
import { planWithCapacity } from '../../src/scheduling/capacity-plan.js';
import type { PlacementCandidate, PlacementInput, PolicyName } from '../../src/scheduling/policies.js';
import { type BookedSpan, CAPACITY_BUCKET_MS, bucketOf, type Occupancy } from '../../src/shared/capacity-buckets.js';
import { fullPeriods } from '../../src/shared/capacity-instants.js';
import { referenceChoice } from './reference-capacity-plan.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Date.parse('2024-03-01T00:00:00Z');
const POLICIES: PolicyName[] = ['immediate-home', 'spatial', 'temporal', 'spatiotemporal'];
const ZONES = ['ZA', 'ZB', 'ZC', 'ZD'];
const CASES = Number(process.env.CASES ?? 3000);

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng.next() * items.length)]!;
const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng.next() * (max - min + 1));

/** Values from a few levels (exact ties, flat stretches) or continuous ones; providers validate them finite. */
function randomForecast(rng: Rng, zone: string, nowMs: number): ZoneForecast {
  const stepMs = pick(rng, [HOUR, HOUR, 30 * MIN, 15 * MIN]);
  const levels = rng.chance(0.5) ? [100, 150, 200, 100.1] : null;
  const startMs = Math.floor(nowMs / HOUR) * HOUR - pick(rng, [0, 0, HOUR, -HOUR, -3 * HOUR]);
  const values = Array.from({ length: int(rng, 4, 40) * (HOUR / stepMs) }, () =>
    levels ? pick(rng, levels) : rng.uniform(20, 600),
  );
  return {
    zone,
    basis: rng.chance(0.1) ? 'marginal' : 'average',
    source: 'test',
    issuedAtMs: startMs,
    startMs,
    stepMs,
    valuesGCo2PerKwh: values,
  };
}

function randomCase(rng: Rng): { input: PlacementInput; occupancy: Occupancy } {
  const nowMs = T0 + int(rng, 0, 48) * HOUR + (rng.chance(0.5) ? int(rng, 0, 59) * MIN + int(rng, 0, 999) : 0);
  const candidates: PlacementCandidate[] = Array.from({ length: int(rng, 1, 6) }, (_, i) => ({
    id: `c${i}`,
    kind: 'docker-node',
    region: `r${i}`,
    zone: pick(rng, ZONES),
    freeSlots: 1,
    ...(rng.chance(0.1) ? {} : { capacity: rng.chance(0.05) ? 0 : int(rng, 1, 3) }),
  }));
  const zones = ZONES.filter(() => rng.chance(0.8));
  const forecasts = rng.chance(0.05) ? [] : zones.map((zone) => randomForecast(rng, zone, nowMs));
  const busy = new Map<string, Map<number, number>>();
  const full = new Map<string, BookedSpan[]>();
  const fullness = rng.uniform(0.2, 0.98);
  const horizonHours = int(rng, 1, 36);
  for (const candidate of candidates) {
    if (!candidate.capacity) continue;
    const used = new Map<number, number>();
    for (let b = bucketOf(nowMs) - 2; b * CAPACITY_BUCKET_MS < nowMs + horizonHours * HOUR; b += 1) {
      // Busy time: full buckets, and partly full ones whose room fits some run lengths and not others.
      const limitMs = candidate.capacity * CAPACITY_BUCKET_MS;
      const busyMs = rng.chance(fullness) ? limitMs : int(rng, 0, limitMs - 1);
      if (busyMs > 0) used.set(b, busyMs);
    }
    busy.set(candidate.id, used);
    // Booked runs overlapping off the bucket boundaries: their full periods block instants and offer freeing ones.
    const runs = Array.from({ length: int(rng, 0, 4 * candidate.capacity) }, () => {
      const startMs = nowMs + int(rng, -20, horizonHours * 60) * MIN + (rng.chance(0.5) ? int(rng, 0, 59_999) : 0);
      return { startMs, endMs: startMs + int(rng, 1, 40) * MIN };
    });
    full.set(candidate.id, fullPeriods(runs, candidate.capacity));
  }
  const occupancy: Occupancy = { busy, full };
  const input: PlacementInput = {
    policy: pick(rng, POLICIES),
    candidates,
    homeCandidateId: pick(rng, candidates).id,
    nowMs,
    deadlineMs: nowMs + pick(rng, [0, -HOUR, 30 * MIN, HOUR, 6 * HOUR, 24 * HOUR, int(rng, 0, 30 * 60) * MIN]),
    estimatedDurationMs: pick(rng, [0, 1, 2 * MIN, 5 * MIN, 7 * MIN + 13, 45 * MIN, 2 * HOUR]),
    forecasts,
    ...(rng.chance(0.3) ? {} : { startMarginMs: pick(rng, [0, 1, 5 * MIN, 20 * MIN + 7, 3 * HOUR]) }),
  };
  return { input, occupancy };
}

describe('capacity planner against the exhaustive reference', () => {
  it(`makes the reference's choice on ${CASES} random ledgers and forecasts`, () => {
    const rng = createRng(12);
    let searched = 0;
    for (let n = 0; n < CASES; n += 1) {
      const { input, occupancy } = randomCase(rng);
      const expected = referenceChoice(input, occupancy);
      if (expected === null) {
        assert.throws(() => planWithCapacity(input, occupancy), `case ${n}: no slot in the reference`);
        continue;
      }
      const plan = planWithCapacity(input, occupancy);
      const actual = { candidateId: plan.candidateId, startMs: plan.startMs, mean: plan.expectedIntensityGCo2PerKwh };
      assert.deepEqual(actual, expected, `case ${n}: ${JSON.stringify({ ...input, forecasts: undefined })}`);
      if (plan.notes.some((note) => note.startsWith('capacity:'))) searched += 1;
    }
    // The cases must exercise the search itself, not only the policy's own slot.
    assert.ok(searched > CASES / 3, `only ${searched} cases needed the capacity search`);
  });
});
