// A run prefetched onto a busy node (its container prepared, waiting for the node's one grader slot) whose
// workflow is cancelled: its claim is released, its container removed, and the running grader is untouched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { eq } from 'drizzle-orm';
import { gradingRuns, runSlotClaims } from '../../src/db/schema.js';
import { NODE_LABEL, RUN_LABEL } from '../../src/executors/docker/grader-container.js';
import { CANCELLED_REASON, ingestWorkflowId } from '../../src/shared/grading-types.js';
import { cpuGraderZip } from '../support/cpu-grader.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

/** Long enough that the second run is still waiting for the slot when it is cancelled, even on a loaded machine. */
const CPU_SEC = 6;

/**
 * Whether the container runs a grader process now (a prepared container only idles). The container's own shell
 * names run_autograder in its script, so only a process that is run_autograder itself counts.
 */
async function runsGrader(containerId: string): Promise<boolean> {
  // dockerode types `top()` as any; the engine answers { Titles, Processes: string[][] }, the command last.
  const top = (await new Docker().getContainer(containerId).top()) as { Processes?: string[][] };
  return (top.Processes ?? []).some((row) => /^\S+ \.\/run_autograder$/.test(row.at(-1) ?? ''));
}

describe('a prefetched run cancelled while it waits for a slot', () => {
  let stack: GradingStack;
  const docker = new Docker();

  before(async () => {
    stack = await startGradingStack({
      env: { NODE_MAX_CONCURRENT_RUNS: '1', NODE_PREFETCH_RUNS: '1', GRADER_TIMEOUT_SEC: '300' },
    });
  });

  after(() => stack?.stop());

  it(
    'releases its claim and removes its container; the running grader still finishes',
    { timeout: 400_000 },
    async () => {
      const { db } = stack.database;
      const nodeName = stack.nodes[0]?.nodeName ?? '';
      const files = await Promise.all(
        [0, 1].map(async (i) => writeZipFile(await cpuGraderZip(CPU_SEC, `prefetch-cancel-${i}-${randomUUID()}`))),
      );
      for (const file of files) await mosquittoPub(brokerOf(stack.config), file.path);

      // The node holds both: one container runs the grader, the other is prepared and idles until the slot frees.
      const { waitingRunId } = await waitFor(
        async () => {
          const containers = await docker.listContainers({ filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
          if (containers.length !== 2) return null;
          const graders = await Promise.all(
            containers.map(async (info) => ({
              runId: info.Labels[RUN_LABEL] ?? '',
              grading: await runsGrader(info.Id),
            })),
          );
          const waiting = graders.filter((g) => !g.grading);
          return waiting.length === 1 && waiting[0] ? { waitingRunId: waiting[0].runId } : null;
        },
        { description: 'one run grading and one prepared and waiting', intervalMs: 200, timeoutMs: 300_000 },
      );
      const [waitingRow] = await db.select().from(gradingRuns).where(eq(gradingRuns.id, waitingRunId));
      assert.ok(waitingRow, 'the waiting container belongs to a run');

      await stack.temporal.workflow.getHandle(waitingRow.workflowId).cancel();

      const cancelled = await stack.waitForRun(waitingRow.workflowId, (run) => run.state === 'failed', 60_000);
      assert.equal(cancelled.failureReason, CANCELLED_REASON);
      // The row is marked failed first and the claim released right after, in the same activity.
      await waitFor(
        async () => {
          const [claim] = await db.select().from(runSlotClaims).where(eq(runSlotClaims.runId, waitingRunId));
          return claim?.releasedAt ? true : null;
        },
        { description: 'the cancelled run’s claim released', intervalMs: 100, timeoutMs: 30_000 },
      );
      await waitFor(
        async () => {
          const left = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${waitingRunId}`] } });
          return left.length === 0 ? true : null;
        },
        { description: 'the cancelled run’s container removed', intervalMs: 200, timeoutMs: 60_000 },
      );

      const otherId = files.map((file) => ingestWorkflowId(file.sha256)).find((id) => id !== waitingRow.workflowId);
      const other = await stack.waitForRun(otherId ?? '', (run) => run.state === 'completed', 300_000);
      assert.equal(other.outcome, 'graded');
    },
  );
});
