// No run row outlives its workflow unfinished: the reconciliation schedule marks rows failed whose workflow was
// terminated or is unknown to Temporal, gives their node its slot back, and leaves running workflows alone.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { createReconcileActivities } from '../../src/activities/reconcile-activities.js';
import { createSlotRelease } from '../../src/activities/slot-release.js';
import { signalSlotFreed } from '../../src/workers/signal-slot-freed.js';
import { activeRunsPerNode } from '../../src/db/active-runs.js';
import { gradingRuns, runSlotClaims } from '../../src/db/schema.js';
import type { AutograderExecutor } from '../../src/executors/executor.js';
import { metrics, type ReconciledWorkflowStatus } from '../../src/observability/metrics.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { ensureReconcileSchedule, reconcileScheduleId } from '../../src/workers/reconcile-schedule.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { insertRunRow } from '../support/run-row.js';
import { waitFor } from '../support/wait-for.js';

/** A grader that never ends: it heartbeats until its activity is cancelled, so its run stays `running`. */
const hangingExecutor: AutograderExecutor = {
  kind: 'docker',
  run: (_job, control) =>
    new Promise((_resolve, reject) => {
      const beat = setInterval(() => control.heartbeat('grading'), 500);
      control.abortSignal.addEventListener('abort', () => {
        clearInterval(beat);
        reject(new Error('cancelled'));
      });
    }),
};

const HOUR_MS = 3600_000;

describe('stuck runs are reconciled', () => {
  let stack: GradingStack;
  let nodeName: string;
  const openWorkflows: string[] = [];

  before(async () => {
    stack = await startGradingStack({ nodes: 0 });
    nodeName = (await stack.startNode({}, hangingExecutor)).nodeName;
  });

  after(async () => {
    for (const id of openWorkflows) {
      await stack.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
    await stack?.stop();
  });

  /** Publishes a fresh zip and waits until its run is running on the hanging node. */
  async function runningSubmission(label: string) {
    const file = await writeZipFile(await buildGradescopeZip({ hostname: `${label}-${randomUUID()}\n` }));
    await mosquittoPub(brokerOf(stack.config), file.path);
    const workflowId = ingestWorkflowId(file.sha256);
    openWorkflows.push(workflowId);
    const run = await stack.waitForRun(workflowId, (row) => row.state === 'running', 30_000);
    return { workflowId, run };
  }

  /** Makes a row older than the reconciliation's grace period, instead of waiting it out. */
  async function backdate(workflowId: string) {
    await stack.database.db
      .update(gradingRuns)
      .set({ receivedAt: new Date(Date.now() - HOUR_MS) })
      .where(eq(gradingRuns.workflowId, workflowId));
  }

  async function activeOnNode(): Promise<number> {
    const active = activeRunsPerNode(stack.database.db);
    const rows = await stack.database.db.select().from(active).where(eq(active.nodeName, nodeName));
    return rows[0]?.count ?? 0;
  }

  async function reconciled(status: ReconciledWorkflowStatus): Promise<number> {
    const counter = await metrics.reconciledRuns.get();
    return counter.values.find((v) => v.labels.workflow_status === status)?.value ?? 0;
  }

  it('fails the run of a workflow an operator terminated, freeing its node, when the schedule fires', async () => {
    const { workflowId } = await runningSubmission('terminated');
    assert.equal(await activeOnNode(), 1);
    await stack.temporal.workflow.getHandle(workflowId).terminate('an operator gave up on it');
    await backdate(workflowId);
    const before = await reconciled('terminated');

    await stack.temporal.schedule.getHandle(reconcileScheduleId(stack.config)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const run = await stack.waitForRun(workflowId, (row) => row.state === 'failed', 30_000);
    assert.equal(run.outcome, 'infrastructure-failure');
    assert.equal(run.failureReason, 'workflow TERMINATED without recording a result');
    // The row is marked first; the same activity then releases its claim, wakes the queue and counts the fix.
    await waitFor(async () => ((await activeOnNode()) === 0 ? true : null), {
      description: 'the node has its slot back',
      timeoutMs: 10_000,
    });
    await waitFor(async () => ((await reconciled('terminated')) === before + 1 ? true : null), {
      description: 'the fix counted once',
      timeoutMs: 10_000,
    });
  });

  it('fails a row whose workflow Temporal does not know, and leaves running and young rows alone', async () => {
    const { workflowId: runningId, run: running } = await runningSubmission('running');
    await backdate(runningId);
    const insertRow = async (receivedAt: Date) => {
      const [row] = await stack.database.db
        .insert(gradingRuns)
        .values({
          workflowId: `grade-never-started-${randomUUID()}`,
          payloadSha256: running.payloadSha256,
          trigger: 'rerun',
          state: 'placed',
          nodeName,
          receivedAt,
        })
        .returning();
      assert.ok(row);
      return row;
    };
    const unknown = await insertRow(new Date(Date.now() - HOUR_MS));
    const young = await insertRow(new Date());
    const before = await reconciled('not_found');

    const release = createSlotRelease(stack.database.db, stack.config, signalSlotFreed(stack.temporal));
    const reconcile = createReconcileActivities(stack.database.db, stack.temporal, release);
    const { fixed } = await reconcile.reconcileRuns();
    assert.deepEqual(
      fixed.map((f) => [f.runId, f.workflowStatus]),
      [[unknown.id, 'not_found']],
    );
    const stateOf = async (id: string) =>
      (await stack.database.db.select().from(gradingRuns).where(eq(gradingRuns.id, id)))[0];
    const fixedRow = await stateOf(unknown.id);
    assert.equal(fixedRow?.state, 'failed');
    assert.match(fixedRow?.failureReason ?? '', /unknown to Temporal/);
    assert.equal((await stateOf(running.id))?.state, 'running', 'a running workflow keeps its row');
    assert.equal((await stateOf(young.id))?.state, 'placed', 'a row within the grace period is left alone');
    assert.equal(await reconciled('not_found'), before + 1);
  });

  it('goes on where the last batch ended, so a row past the first batch is reconciled too', async () => {
    const DAY_MS = 24 * HOUR_MS;
    // The oldest unfinished rows of the table: a run still running, then one whose workflow never existed.
    const { workflowId, run: running } = await runningSubmission('first-in-line');
    await stack.database.db
      .update(gradingRuns)
      .set({ receivedAt: new Date(Date.now() - 3 * DAY_MS) })
      .where(eq(gradingRuns.workflowId, workflowId));
    const [unknown] = await stack.database.db
      .insert(gradingRuns)
      .values({
        workflowId: `grade-never-started-${randomUUID()}`,
        payloadSha256: running.payloadSha256,
        trigger: 'rerun',
        state: 'queued',
        receivedAt: new Date(Date.now() - 2 * DAY_MS),
      })
      .returning();
    assert.ok(unknown);

    const release = createSlotRelease(stack.database.db, stack.config, signalSlotFreed(stack.temporal));
    const reconcile = createReconcileActivities(stack.database.db, stack.temporal, release, { batchSize: 1 });
    const first = await reconcile.reconcileRuns();
    assert.deepEqual(first.fixed, [], 'the first batch holds the running run only');
    const second = await reconcile.reconcileRuns();
    assert.deepEqual(
      second.fixed.map((f) => f.runId),
      [unknown.id],
      'the next batch starts after it, not again at the oldest row',
    );
  });

  it('looks at the runs first in line every time, however many older rows the batches have to go through', async () => {
    const DAY_MS = 24 * HOUR_MS;
    // A row as ingestion leaves it, dated back: its workflow id was never started, so Temporal does not know it.
    const insertRow = async (receivedAt: Date, deadlineAt?: Date) => {
      const { runId } = await insertRunRow(stack.database.db, deadlineAt ? { deadlineAt } : {});
      await stack.database.db.update(gradingRuns).set({ receivedAt }).where(eq(gradingRuns.id, runId));
      return runId;
    };
    // Two old rows fill the first batch. In one region's queue, two runs with smaller start tags wait behind a run
    // whose deadline comes first: that one is first in line (deadline-first service), and its workflow is gone.
    const older = [
      await insertRow(new Date(Date.now() - 2.5 * DAY_MS)),
      await insertRow(new Date(Date.now() - 2.4 * DAY_MS)),
    ];
    const anHourAgo = new Date(Date.now() - HOUR_MS);
    const behind = [await insertRow(anHourAgo), await insertRow(anHourAgo)];
    const firstInLine = await insertRow(anHourAgo, new Date(Date.now() + HOUR_MS));
    await stack.database.db.insert(runSlotClaims).values([
      { runId: behind[0]!, lane: 'live', queueTag: 1, region: 'r' },
      { runId: behind[1]!, lane: 'live', queueTag: 2, region: 'r' },
      { runId: firstInLine, lane: 'live', queueTag: 3, region: 'r' },
    ]);

    const release = createSlotRelease(stack.database.db, stack.config, signalSlotFreed(stack.temporal));
    const reconcile = createReconcileActivities(stack.database.db, stack.temporal, release, { batchSize: 2 });
    const { fixed } = await reconcile.reconcileRuns();
    const fixedIds = fixed.map((f) => f.runId);
    assert.ok(fixedIds.includes(firstInLine), `the run first in line was not looked at: fixed ${fixedIds.join(', ')}`);
    const [claim] = await stack.database.db
      .select({ releasedAt: runSlotClaims.releasedAt })
      .from(runSlotClaims)
      .where(eq(runSlotClaims.runId, firstInLine));
    assert.ok(claim?.releasedAt, 'its place in line is given back');
    // The other rows are reconciled by the next passes, as before.
    const later = [...fixedIds];
    for (let pass = 0; pass < 3; pass++) later.push(...(await reconcile.reconcileRuns()).fixed.map((f) => f.runId));
    for (const id of [...older, ...behind]) assert.ok(later.includes(id), `the row ${id} was reconciled`);
  });

  it('keeps one schedule across orchestrator restarts, and updates it when the interval changes', async () => {
    const scheduleId = reconcileScheduleId(stack.config);
    await stack.restartOrchestrator();
    assert.equal(await ensureReconcileSchedule(stack.temporal, stack.config), 'unchanged');
    const changed = { ...stack.config, RECONCILE_INTERVAL_SEC: 120 };
    assert.equal(await ensureReconcileSchedule(stack.temporal, changed), 'updated');
    assert.equal(await ensureReconcileSchedule(stack.temporal, changed), 'unchanged');
    const description = await stack.temporal.schedule.getHandle(scheduleId).describe();
    assert.deepEqual(
      description.spec.intervals?.map((i) => i.every),
      [120_000],
    );
    await waitFor(
      async () => {
        const ids: string[] = [];
        for await (const schedule of stack.temporal.schedule.list()) {
          if (schedule.scheduleId === scheduleId) ids.push(schedule.scheduleId);
        }
        return ids.length === 1 || undefined;
      },
      { timeoutMs: 10_000, description: `exactly one schedule ${scheduleId}` },
    );
  });
});
