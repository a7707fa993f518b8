import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { placementFor } from '../../../src/activities/placement-timeouts.js';

// The fleet test sets these to seconds; values that would break liveness or hand-over are refused at start.
describe('node liveness, pickup and heartbeat settings', () => {
  it('defaults to 30 s liveness, 300 s pickup and 30 s heartbeat', () => {
    const config = loadConfig({});
    assert.equal(config.NODE_LIVENESS_SEC, 30);
    assert.equal(config.NODE_PICKUP_TIMEOUT_SEC, 300);
    assert.equal(config.NODE_HEARTBEAT_TIMEOUT_SEC, 30);
  });

  it('accepts the fleet test’s small values and carries the heartbeat timeout into each placement', () => {
    const config = loadConfig({
      NODE_LIVENESS_SEC: '6',
      NODE_PICKUP_TIMEOUT_SEC: '10',
      NODE_HEARTBEAT_TIMEOUT_SEC: '10',
    });
    const node = {
      name: 'n1',
      taskQueue: 'greengrader-node-n1',
      region: 'us-west',
      zone: 'us-west-1',
      kind: 'docker' as const,
      maxConcurrentRuns: 1,
      prefetchRuns: 1,
    };
    const placement = placementFor(config, node);
    assert.equal(placement.pickupTimeoutSec, 10);
    assert.equal(placement.heartbeatTimeoutSec, 10);
  });

  for (const [name, value, says] of [
    ['NODE_LIVENESS_SEC', '0', 'at least 3 s'],
    ['NODE_LIVENESS_SEC', '2', 'at least 3 s'],
    ['NODE_PICKUP_TIMEOUT_SEC', '0', 'at least 1 s'],
    ['NODE_HEARTBEAT_TIMEOUT_SEC', '5', 'at least 10 s'],
  ] as const) {
    it(`refuses ${name}=${value} with a reason`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(`${name}: must be ${says}`),
      );
    });
  }
});
