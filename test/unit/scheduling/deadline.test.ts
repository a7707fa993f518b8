import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DEADLINE_SETTINGS, computeDeadline } from '../../../src/scheduling/deadline.js';

const HOUR = 3_600_000;
const DUE = Date.parse('2023-10-14T06:59:00Z'); // Friday 23:59 Pacific
const settings = { maxDelayMs: 6 * HOUR, dueGraceMs: HOUR };

describe('deadline', () => {
  it('is received + maxDelay without due dates', () => {
    assert.deepEqual(computeDeadline({ receivedMs: 0 }, settings), {
      deadlineMs: 6 * HOUR,
      slackMs: 6 * HOUR,
      rule: 'max-delay',
    });
  });

  it('maxDelay 0 means run now', () => {
    assert.equal(computeDeadline({ receivedMs: 5 }, { maxDelayMs: 0, dueGraceMs: HOUR }).deadlineMs, 5);
  });

  it('an expedited submission has no slack', () => {
    assert.deepEqual(computeDeadline({ receivedMs: 5, expedite: true }, settings), {
      deadlineMs: 5,
      slackMs: 0,
      rule: 'expedited',
    });
  });

  it('a submission before the due date starts by due + grace', () => {
    const deadline = computeDeadline({ receivedMs: DUE - 2 * HOUR, dueMs: DUE }, settings);
    assert.deepEqual(deadline, { deadlineMs: DUE + HOUR, slackMs: 3 * HOUR, rule: 'due-date' });
  });

  it('a submission long before the due date keeps its full maxDelay', () => {
    assert.equal(computeDeadline({ receivedMs: DUE - 48 * HOUR, dueMs: DUE }, settings).rule, 'max-delay');
  });

  it('a late submission is capped by the late due date, after which only maxDelay applies', () => {
    const lateDueMs = DUE + 24 * HOUR;
    const late = computeDeadline({ receivedMs: lateDueMs - HOUR, dueMs: DUE, lateDueMs }, settings);
    assert.deepEqual(late, { deadlineMs: lateDueMs + HOUR, slackMs: 2 * HOUR, rule: 'late-due-date' });
    const afterAll = computeDeadline({ receivedMs: lateDueMs + HOUR, dueMs: DUE, lateDueMs }, settings);
    assert.equal(afterAll.rule, 'max-delay');
  });

  it('a cap never puts the deadline before the submission', () => {
    const deadline = computeDeadline({ receivedMs: DUE, dueMs: DUE }, { maxDelayMs: 6 * HOUR, dueGraceMs: 0 });
    assert.equal(deadline.deadlineMs, DUE);
  });

  it('rejects negative settings and bad times', () => {
    assert.throws(() => computeDeadline({ receivedMs: 0 }, { maxDelayMs: -1, dueGraceMs: 0 }), RangeError);
    assert.throws(() => computeDeadline({ receivedMs: NaN }), RangeError);
  });

  it('defaults to 6 h of delay and 1 h of grace', () => {
    assert.deepEqual(DEFAULT_DEADLINE_SETTINGS, { maxDelayMs: 6 * HOUR, dueGraceMs: HOUR });
  });
});
