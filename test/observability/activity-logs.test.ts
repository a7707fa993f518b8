import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityLogger } from '../../src/observability/activity-logger.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTemporalLogger } from '../../src/observability/temporal-logger.js';

describe('activity logs', () => {
  it('are JSON lines with the workflow id (grade-<sha256>) and the run id, through the Runtime logger', async () => {
    const lines: string[] = [];
    const logger = createTemporalLogger(
      createLogger({ process: 'worker' }, (line) => lines.push(line)),
      'INFO',
    );
    const env = new MockActivityEnvironment(
      { activityType: 'recordResults', workflowExecution: { workflowId: 'grade-abc123', runId: 'wf-run-1' } },
      { logger },
    );
    await env.run(async () => {
      const log = activityLogger({ runId: 'run-42' });
      log.debug('dropped below INFO');
      log.info('results recorded', { outcome: 'graded' });
      log.child({ attempt: 2 }).warn('slow');
      return Promise.resolve();
    });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ours = entries.filter((entry) => entry.sdkComponent === 'activity');
    assert.deepEqual(
      ours.map((e) => [e.level, e.message, e.workflowId, e.activityType, e.runId]),
      [
        ['info', 'results recorded', 'grade-abc123', 'recordResults', 'run-42'],
        ['warn', 'slow', 'grade-abc123', 'recordResults', 'run-42'],
      ],
    );
    assert.equal(ours[0]?.outcome, 'graded');
    assert.equal(ours[0]?.process, 'worker');
    assert.ok(
      ours.every((entry) => !('taskToken' in entry)),
      'no opaque task token on every line',
    );
  });

  it('log nothing when called outside an activity', () => {
    assert.doesNotThrow(() => activityLogger({ runId: 'run-1' }).info('ignored'));
  });
});
