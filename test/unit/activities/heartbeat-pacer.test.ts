import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createHeartbeatPacer } from '../../../src/activities/heartbeat-pacer.js';

/** Reports a phase every 500 ms (as the Docker executor does) for `durationMs`; returns what reached Temporal. */
function reportFor(durationMs: number, heartbeatTimeoutMs: number | undefined, phaseAt = (ms: number) => `p${ms}`) {
  let clock = 0;
  const sent: { atMs: number; phase: string }[] = [];
  const beat = createHeartbeatPacer({
    heartbeatTimeoutMs,
    send: (phase) => sent.push({ atMs: clock, phase }),
    now: () => clock,
  });
  for (clock = 0; clock <= durationMs; clock += 500) beat(phaseAt(clock));
  return sent;
}

it('sends no heartbeat for a run shorter than a third of its heartbeat timeout', () => {
  assert.deepEqual(reportFor(9_500, 30_000), []);
});

it('sends the latest phase once per third of the heartbeat timeout, never at the executor’s pace', () => {
  const sent = reportFor(60_000, 30_000);
  assert.deepEqual(
    sent.map((beat) => beat.atMs),
    [10_000, 20_000, 30_000, 40_000, 50_000, 60_000],
  );
  assert.equal(sent[0]?.phase, 'p10000');
});

it('keeps every silence well inside the shortest heartbeat timeout allowed (10 s)', () => {
  const sent = reportFor(40_000, 10_000);
  const gaps = sent.map((beat, i) => beat.atMs - (sent[i - 1]?.atMs ?? 0));
  assert.ok(gaps.length >= 9, `${gaps.length} beats`);
  assert.ok(Math.max(...gaps) <= 4_000, `longest silence ${Math.max(...gaps)} ms`);
});

it('paces an activity without a heartbeat timeout at one beat per 10 s', () => {
  assert.deepEqual(
    reportFor(25_000, undefined).map((beat) => beat.atMs),
    [10_000, 20_000],
  );
});
