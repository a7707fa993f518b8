import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterWithin, topicMatches } from '../../../src/shared/broker-accounts.js';

describe('topic filters', () => {
  it('match topics as MQTT does', () => {
    assert.equal(topicMatches('submissions', 'submissions'), true);
    assert.equal(topicMatches('submissions', 'submissions/x'), false);
    assert.equal(topicMatches('submissions/#', 'submissions'), true);
    assert.equal(topicMatches('submissions/#', 'submissions/a/b'), true);
    assert.equal(topicMatches('submissions/+', 'submissions/a'), true);
    assert.equal(topicMatches('submissions/+', 'submissions/a/b'), false);
    assert.equal(topicMatches('#', '$SYS/broker/version'), false);
    assert.equal(topicMatches('$SYS/broker/version', '$SYS/broker/version'), true);
  });

  it('allow a subscription only when everything it could receive is allowed', () => {
    assert.equal(filterWithin('submissions', 'submissions'), true);
    assert.equal(filterWithin('submissions/#', 'submissions/abc'), true);
    assert.equal(filterWithin('submissions/#', 'submissions/#'), true);
    assert.equal(filterWithin('submissions/#', 'submissions/+'), true);
    assert.equal(filterWithin('submissions', '#'), false);
    assert.equal(filterWithin('submissions', 'submissions/#'), false);
    assert.equal(filterWithin('submissions/+', 'submissions/#'), false);
    assert.equal(filterWithin('submissions/abc', 'submissions/+'), false);
    assert.equal(filterWithin('submissions', 'other'), false);
  });
});
