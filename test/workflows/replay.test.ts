// Every committed history must replay against today's workflow code: a change that would break a run already
// open on the server (a different command, a different order) fails here instead of in production.
// Regenerate the histories with `npm run record:histories`; see README "Changing the workflow safely".
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { historyFromJson } from './support/history-json.js';
import { bundleWorkflows } from './support/run-scenario.js';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));

/** The paths that must always have a history: one per way a grading run can go. */
const REQUIRED = [
  'graded-at-once',
  'waited-then-started',
  'expedited-mid-wait',
  'rejected-bad-zip',
  'node-failed-other-node',
  'every-provider-failed',
  'cancelled',
  'nodes-exhausted',
  // Recorded with the workflow from before 882aeb4: proves the never-early patch.
  'waited-before-never-early',
  // Since the release-failed-node-slot and fail-row-on-workflow-failure patches (node-failed-other-node,
  // pickup-timeout-other-node and nodes-exhausted keep the shape from before them).
  'node-failed-other-node-releases-slot',
  'failed-activity-marks-row',
  // Since the queue-for-slot patch: claims through the slot queue, and a busy live node is not given up on.
  'queued-then-claimed',
  'busy-node-requeued',
  // Since the local-central-activities patch: central work as markers, state written where the run rests.
  'graded-at-once-local',
  'rejected-bad-zip-local',
  'failed-activity-marks-row-local',
  'queued-then-claimed-local',
  'busy-node-requeued-local',
  'cancelled-local',
  // Since queued runs wait on signals with a long fallback poll (queued-then-claimed-local keeps the 2-s backoff).
  'queued-then-woken-local',
  // Since the combined-central-steps patch: steps that run back to back are one local activity each.
  'graded-at-once-combined',
  'rejected-bad-zip-combined',
  'failed-activity-marks-row-combined',
  'queued-then-woken-combined',
  'queued-without-provider-combined',
  'cancelled-combined',
  'carbon-accounting-failed-combined',
  // A queued run's wait ends at its spill time: the same commands, only the timer is shorter.
  'queued-then-spilled-local',
  'queued-then-spilled-combined',
];

let bundle: WorkflowBundle;
let files: string[];

before(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  files = (await readdir(HISTORIES)).filter((file) => file.endsWith('.json')).sort();
  bundle = await bundleWorkflows();
});

describe('committed histories replay against the current workflow code', () => {
  it('has a history for every required path', () => {
    const names = files.map((file) => path.basename(file, '.json'));
    assert.deepEqual(
      REQUIRED.filter((name) => !names.includes(name)),
      [],
    );
  });

  it('replays every history without a non-determinism error', async () => {
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: path.basename(file, '.json'),
        history: historyFromJson(await readFile(path.join(HISTORIES, file), 'utf8')),
      })),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
    assert.equal(histories.length, files.length);
  });
});
