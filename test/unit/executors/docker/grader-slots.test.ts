import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraderSlots } from '../../../../src/executors/docker/grader-slots.js';

/** Settles pending promise callbacks, so a waiter that was admitted has run its continuation. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('grader slots', () => {
  it('admits up to its size at once and hands a freed slot to the first waiter', async () => {
    const slots = new GraderSlots(2);
    const never = new AbortController().signal;
    const first = await slots.enter(never);
    await slots.enter(never);
    const admitted: string[] = [];
    const third = slots.enter(never).then((release) => (admitted.push('third'), release));
    const fourth = slots.enter(never).then((release) => (admitted.push('fourth'), release));
    await settle();
    assert.deepEqual(admitted, []);
    assert.equal(slots.waiting, 2);

    first();
    first(); // a second call of the same release frees nothing more
    await settle();
    assert.deepEqual(admitted, ['third']);
    assert.equal(slots.inUse, 2);
    (await third)();
    await settle();
    assert.deepEqual(admitted, ['third', 'fourth']);
    (await fourth)();
    assert.equal(slots.inUse, 1);
  });

  it('lets an aborted waiter leave the line without taking or leaking a slot', async () => {
    const slots = new GraderSlots(1);
    const release = await slots.enter(new AbortController().signal);
    const cancelled = new AbortController();
    const leaving = slots.enter(cancelled.signal);
    const next = slots.enter(new AbortController().signal);
    cancelled.abort(new Error('run cancelled'));
    await assert.rejects(leaving, /run cancelled/);
    assert.equal(slots.waiting, 1);

    release();
    const nextRelease = await next;
    assert.equal(slots.inUse, 1);
    nextRelease();
    assert.equal(slots.inUse, 0);
    await assert.rejects(slots.enter(cancelled.signal), /run cancelled/);
    assert.equal(slots.inUse, 0);
  });

  it('refuses a size below one', () => {
    assert.throws(() => new GraderSlots(0), /positive integer/);
  });
});
