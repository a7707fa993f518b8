import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionReset, createOrderedAcks } from '../../../src/bridge/ordered-acks.js';

describe('ordered acks', () => {
  it('sends PUBACKs in PUBLISH order although messages commit out of order', async () => {
    const sent: number[] = [];
    const acks = createOrderedAcks(8, (id) => sent.push(id));
    const slots = await Promise.all([1, 2, 3, 4].map((id) => acks.admit(id)));
    slots[2]?.settle();
    slots[1]?.settle();
    assert.deepEqual(sent, [], 'message 1 is not committed yet');
    slots[0]?.settle();
    assert.deepEqual(sent, [1, 2, 3]);
    slots[3]?.settle();
    assert.deepEqual(sent, [1, 2, 3, 4]);
  });

  it('holds a message beyond the window until the oldest one is acknowledged', async () => {
    const acks = createOrderedAcks(2, () => undefined);
    const first = await acks.admit(1);
    await acks.admit(2);
    let third = false;
    const admitted = acks.admit(3).then(() => (third = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(third, false);
    first.settle();
    await admitted;
    assert.equal(acks.size, 2);
  });

  it('sends no PUBACK for a message of a connection that was lost', async () => {
    const sent: number[] = [];
    const acks = createOrderedAcks(4, (id) => sent.push(id));
    const old = await acks.admit(7);
    acks.reset();
    old.settle();
    assert.deepEqual(sent, []);
  });

  it('refuses a message that waited for the window while its connection was lost, and keeps the new one free', async () => {
    const sent: number[] = [];
    const acks = createOrderedAcks(1, (id) => sent.push(id));
    await acks.admit(1);
    const waiter = acks.admit(2);
    acks.reset();
    await assert.rejects(waiter, ConnectionReset);
    assert.equal(acks.size, 0, 'the lost message took no place in the new window');
    const fresh = await acks.admit(2);
    fresh.settle();
    assert.deepEqual(sent, [2]);
  });
});
