import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ZoneForecast } from '../../../src/carbon/provider.js';
import { type PlacementCandidate, type PlacementInput, planPlacement } from '../../../src/scheduling/policies.js';
import { nextPlanningMs } from '../../../src/scheduling/replan.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2023-06-01T00:00:00Z');

const forecast = (zone: string, values: number[], basis: ZoneForecast['basis'] = 'average'): ZoneForecast => ({
  zone,
  basis,
  source: 'test',
  issuedAtMs: T0,
  startMs: T0,
  stepMs: HOUR,
  valuesGCo2PerKwh: values,
});
const candidate = (id: string, zone: string, freeSlots = 2): PlacementCandidate => ({
  id,
  kind: 'docker-node',
  region: id,
  zone,
  freeSlots,
});
const candidates = [candidate('a', 'ZA'), candidate('b', 'ZB'), candidate('c', 'ZC', 0)];
// hour:                      0    1    2    3    4    5
const forecasts = [
  forecast('ZA', [300, 300, 100, 300, 300, 300]),
  forecast('ZB', [200, 200, 200, 50, 200, 200]),
  forecast('ZC', [10, 10, 10, 10, 10, 10]),
];
const input = (overrides: Partial<PlacementInput>): PlacementInput => ({
  policy: 'immediate-home',
  candidates,
  homeCandidateId: 'a',
  nowMs: T0,
  deadlineMs: T0 + 4 * HOUR,
  estimatedDurationMs: 10 * 60_000,
  forecasts,
  ...overrides,
});

describe('planPlacement', () => {
  it('immediate-home stays home and starts now, whatever the forecast', () => {
    const plan = planPlacement(input({ policy: 'immediate-home' }));
    assert.deepEqual([plan.candidate.id, plan.delayMs, plan.expectedIntensityGCo2PerKwh], ['a', 0, 300]);
    assert.equal(plan.expectedHomeNowIntensityGCo2PerKwh, 300);
  });

  it('spatial takes the cleanest candidate with a free slot, now', () => {
    const plan = planPlacement(input({ policy: 'spatial' }));
    assert.deepEqual([plan.candidate.id, plan.delayMs, plan.expectedIntensityGCo2PerKwh], ['b', 0, 200]);
    assert.match(plan.notes.join(), /no free slot: c/);
  });

  it('temporal waits at home for its cleanest hour within the slack', () => {
    const plan = planPlacement(input({ policy: 'temporal' }));
    assert.deepEqual([plan.candidate.id, plan.delayMs, plan.expectedIntensityGCo2PerKwh], ['a', 2 * HOUR, 100]);
  });

  it('spatiotemporal takes the cleanest (candidate, start) that meets the deadline', () => {
    const plan = planPlacement(input({ policy: 'spatiotemporal' }));
    assert.deepEqual([plan.candidate.id, plan.delayMs, plan.expectedIntensityGCo2PerKwh], ['b', 3 * HOUR, 50]);
    const tighter = planPlacement(input({ policy: 'spatiotemporal', deadlineMs: T0 + 2 * HOUR }));
    assert.deepEqual([tighter.candidate.id, tighter.delayMs], ['a', 2 * HOUR]);
  });

  it('averages the forecast over the whole run window, which may start mid-hour', () => {
    // 90-minute run on 400, 100, 500, 50: starting at 0:30 averages (30×400 + 60×100)/90 = 200, as does 2:30
    // ((30×500 + 60×50)/90); the earlier wins. A start on the hour never gets below 233.
    const plan = planPlacement(
      input({
        policy: 'temporal',
        candidates: [candidate('a', 'ZA')],
        forecasts: [forecast('ZA', [400, 100, 500, 50])],
        estimatedDurationMs: 90 * 60_000,
        deadlineMs: T0 + 3 * HOUR,
      }),
    );
    assert.equal(plan.delayMs, 30 * 60_000);
    assert.ok(Math.abs((plan.expectedIntensityGCo2PerKwh ?? 0) - 200) < 1e-9);
    assert.match(plan.notes.join(), /ends 2023-06-01T04:00:00.000Z: planned within it/);
  });

  it('plans only within a forecast shorter than the slack, and says so', () => {
    const short = [forecast('ZA', [300, 250]), forecast('ZB', [280, 260])];
    const plan = planPlacement(input({ policy: 'spatiotemporal', forecasts: short, deadlineMs: T0 + 12 * HOUR }));
    assert.deepEqual([plan.candidate.id, plan.startMs], ['a', T0 + HOUR]);
    assert.equal(plan.fallbackReason, null);
    assert.match(plan.notes.join(), /forecast of ZA ends/);
  });

  it('goes carbon-agnostic (home, now) without forecasts, and records why', () => {
    const plan = planPlacement(input({ policy: 'spatiotemporal', forecasts: [] }));
    assert.deepEqual([plan.candidate.id, plan.startMs, plan.expectedIntensityGCo2PerKwh], ['a', T0, null]);
    assert.match(plan.fallbackReason ?? '', /no carbon forecast/);
  });

  it('runs now at home when no forecast covers a window before the deadline', () => {
    const later = { ...forecast('ZA', [100]), startMs: T0 + 5 * HOUR };
    const plan = planPlacement(input({ policy: 'spatiotemporal', forecasts: [later] }));
    assert.equal(plan.startMs, T0);
    assert.match(plan.fallbackReason ?? '', /no forecast covers/);
    assert.match(plan.notes.join(), /no forecast for ZB/);
  });

  it('never compares average and marginal forecasts: it keeps the home basis', () => {
    const mixed = [forecast('ZA', [300, 300]), forecast('ZB', [1, 1], 'marginal')];
    const plan = planPlacement(input({ policy: 'spatial', forecasts: mixed }));
    assert.equal(plan.candidate.id, 'a');
    assert.equal(plan.basis, 'average');
    assert.match(plan.notes.join(), /ignored marginal forecast of ZB/);
  });

  it('prefers home, then the sooner start, on equal forecasts', () => {
    const flat = [forecast('ZA', [200, 200, 200]), forecast('ZB', [200, 200, 200])];
    const plan = planPlacement(input({ policy: 'spatiotemporal', forecasts: flat }));
    assert.deepEqual([plan.candidate.id, plan.delayMs], ['a', 0]);
  });

  it('prefers the node with more free slots among equal nodes away from home', () => {
    const nodes = [candidate('a', 'ZA'), candidate('b1', 'ZB', 1), candidate('b2', 'ZB', 3)];
    const plan = planPlacement(input({ policy: 'spatial', candidates: nodes }));
    assert.equal(plan.candidate.id, 'b2');
  });

  it('starts now when the deadline has passed', () => {
    const plan = planPlacement(input({ policy: 'temporal', deadlineMs: T0 - HOUR }));
    assert.equal(plan.startMs, T0);
    assert.match(plan.notes.join(), /deadline already passed/);
  });

  it('accepts a custom policy and refuses unknown policies and homes', () => {
    const registry = {
      'wait-only': { name: 'wait-only', description: 'test', movesAcrossCandidates: false, delaysWithinSlack: true },
    };
    assert.equal(planPlacement(input({ policy: 'wait-only' }), registry).delayMs, 2 * HOUR);
    assert.throws(() => planPlacement(input({ policy: 'greedy' })), /unknown placement policy/);
    assert.throws(() => planPlacement(input({ homeCandidateId: 'zz' })), /home candidate/);
  });
});

describe('planning again while waiting', () => {
  it('wakes at each forecast refresh before the planned start, then starts as planned', () => {
    const plan = planPlacement(input({ policy: 'spatiotemporal' }));
    assert.equal(nextPlanningMs(plan, T0 + 10 * 60_000), T0 + HOUR);
    assert.equal(nextPlanningMs(plan, T0 + 2.5 * HOUR), null);
    assert.equal(nextPlanningMs(planPlacement(input({ policy: 'spatial' })), T0), null);
  });
});
