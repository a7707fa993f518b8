import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workflowTaskPolls } from '../../../src/workers/workflow-task-polls.js';

describe("the orchestrator's workflow-task polls", () => {
  it('leave three quarters of the slots to eager starts where a bridge shares the process', () => {
    assert.equal(workflowTaskPolls(40, true), 10);
    assert.equal(workflowTaskPolls(16, true), 4);
    assert.equal(workflowTaskPolls(4, true), 2, 'never fewer than 2');
    assert.equal(workflowTaskPolls(400, true), 10, "never more than the SDK's cap");
  });

  it("keep the SDK's default on an orchestrator without a bridge", () => {
    assert.equal(workflowTaskPolls(10, false), 10);
    assert.equal(workflowTaskPolls(40, false), 10);
    assert.equal(workflowTaskPolls(3, false), 3);
  });
});
