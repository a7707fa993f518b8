import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import JSZip from 'jszip';
import { rawPayloads, submissions } from '../../src/db/schema.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { ASSIGNMENT_ID } from '../../src/shared/search-attributes.js';
import { waitFor } from '../support/wait-for.js';
import { buildGradescopeZip, DEFAULT_STUDENTS } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';

describe('a submission published like Gradescope does', () => {
  let stack: GradingStack;
  before(async () => {
    stack = await startGradingStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('is stored anonymised, re-graded in a container on a node, and recorded', async () => {
    // Workflow ids are the payload's hash and Temporal is shared by all test files: make the bytes ours.
    const nonce = { 'gradescope/test-nonce': randomUUID() };
    const { path, sha256 } = await writeZipFile(await buildGradescopeZip({ extra: nonce }));
    await mosquittoPub(brokerOf(stack.config), path);

    const workflowId = ingestWorkflowId(sha256);
    const runRow = await stack.waitForRun(workflowId);
    assert.equal(runRow.state, 'completed', runRow.failureReason ?? '');
    assert.equal(runRow.outcome, 'graded');
    assert.equal(runRow.score, 10);
    assert.equal(runRow.gradescopeScore, 10);
    assert.deepEqual(
      (runRow.tests as { name: string; score: number }[]).map((t) => [t.name, t.score]),
      [
        ['add(2, 3)', 5],
        ['multiply(4, 5)', 5],
      ],
    );
    assert.equal(runRow.nodeName, stack.nodes[0]?.nodeName);
    assert.equal(runRow.executor, 'docker');
    assert.equal(runRow.exitCode, 0);
    assert.ok(runRow.containerStartedAt && runRow.containerFinishedAt && runRow.recordedAt);
    assert.ok((runRow.turnaroundTimeMs ?? 0) > 0);

    const [stored] = await stack.database.db.select().from(submissions).where(eq(submissions.payloadSha256, sha256));
    assert.ok(stored);
    assert.equal(stored.gradescopeSubmissionId, 209522918);
    assert.equal(stored.assignmentId, 3634596);
    assert.deepEqual(stored.studentNames, ['student-1', 'student-2']);
    assert.deepEqual(stored.studentEmails, ['student-1@example.invalid', 'student-2@example.invalid']);
    assert.deepEqual(stored.senderIps, ['10.0.0.5', '172.17.0.2']);
    const zip = await JSZip.loadAsync(stored.zip);
    const code = await zip.file('gradescope_data/autograder/submission/calculator.py')?.async('string');
    const metadata = await zip.file('gradescope_data/autograder/submission_metadata.json')?.async('string');
    for (const student of DEFAULT_STUDENTS) {
      for (const pii of [student.name, student.email, student.sid]) {
        assert.ok(!code?.includes(pii) && !metadata?.includes(pii), `${pii} is scrubbed`);
      }
    }

    // The run row is final before the workflow is: its carbon receipt is written last.
    const handle = stack.temporal.workflow.getHandle(workflowId);
    await handle.result();
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    assert.equal(description.type, 'GradeSubmission');
    assert.equal(description.memo?.summary, `completed on ${stack.nodes[0]?.nodeName}`);
    // The bridge and the orchestrator share a process and a connection, as in `up`: the first task came with the start.
    const [first] = (await handle.fetchHistory()).events ?? [];
    assert.equal(first?.workflowExecutionStartedEventAttributes?.eagerExecutionAccepted, true, 'an eager start');

    // Operators filter runs in the Web UI by the typed search attributes the workflow sets.
    const query = `GradescopeSubmissionId = 209522918 AND GradingState = 'completed' AND Node = '${runRow.nodeName}'`;
    const found = await waitFor(
      async () => {
        for await (const execution of stack.temporal.workflow.list({ query })) {
          if (execution.workflowId === workflowId) return execution;
        }
        return undefined;
      },
      { timeoutMs: 10_000, description: 'the run found by its search attributes' },
    );
    assert.equal(found.typedSearchAttributes.get(ASSIGNMENT_ID), 3634596);
  });

  it('starts one workflow and stores one row when the same zip is delivered twice', async () => {
    const { path, sha256 } = await writeZipFile(await buildGradescopeZip({ hostname: '10.9.9.9\n' }));
    await mosquittoPub(brokerOf(stack.config), path);
    await mosquittoPub(brokerOf(stack.config), path);
    const workflowId = ingestWorkflowId(sha256);
    await stack.waitForRun(workflowId);
    const rows = await stack.database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, sha256));
    assert.equal(rows.length, 1);
    const handle = stack.temporal.workflow.getHandle(workflowId);
    await handle.result();
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
    const runs = [];
    for await (const execution of stack.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      runs.push(execution.runId);
    }
    assert.equal(runs.length, 1);
  });
});
