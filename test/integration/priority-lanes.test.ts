// Priority lanes through the real path: zips published over MQTT, graded in Docker on a one-slot node. Live
// submissions (before the late due date) go before regrades (re-published old ones, `rerun`), and regrades still
// progress while live ones keep arriving.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { gradingRuns, runSlotClaims } from '../../src/db/schema.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import type { RunLane } from '../../src/shared/lanes.js';
import { cliEnvOf, runCli } from '../cli/support/run-cli.js';
import { cpuGraderZip } from '../support/cpu-grader.js';
import { defaultMetadata } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

/** Small graders: the order of starts is under test, not the grading; 1 slot makes every start a choice. */
const CPU_SEC = 0.2;
const STACK_ENV = {
  NODE_MAX_CONCURRENT_RUNS: '1',
  GRADER_TIMEOUT_SEC: '60',
  LANE_WEIGHT_LIVE: '4',
  LANE_WEIGHT_REGRADE: '1',
};
const LIVE_WEIGHT = 4;

/** One submission's zip: live ones are due in the future, regrades were due in 2023 (re-published after it). */
async function submissionZip(lane: RunLane, gradescopeId: number) {
  const metadata = defaultMetadata();
  metadata.id = gradescopeId;
  if (lane === 'live') {
    metadata.assignment.id += 1;
    metadata.assignment.due_date = '2099-11-15T10:42:00.000000-08:00';
    metadata.assignment.late_due_date = '2099-11-17T10:42:00.000000-08:00';
  }
  return writeZipFile(await cpuGraderZip(CPU_SEC, `${lane}-${gradescopeId}-${randomUUID()}`, metadata));
}

/** The queue rows and run rows of the given workflows. */
async function claimsOf(stack: GradingStack, workflowIds: string[]) {
  return stack.database.db
    .select({
      workflowId: gradingRuns.workflowId,
      lane: runSlotClaims.lane,
      queuedAt: runSlotClaims.queuedAt,
      claimedAt: runSlotClaims.startsAt,
      startedAt: gradingRuns.containerStartedAt,
      state: gradingRuns.state,
    })
    .from(runSlotClaims)
    .innerJoin(gradingRuns, eq(gradingRuns.id, runSlotClaims.runId))
    .where(inArray(gradingRuns.workflowId, workflowIds));
}

describe('a live submission behind 50 queued regrades', () => {
  let stack: GradingStack;
  before(async () => {
    stack = await startGradingStack({ env: STACK_ENV });
  });
  after(() => stack?.stop());

  it('starts before every regrade still queued when it arrived', async () => {
    const base = randomInt(1_000_000_000);
    const regrades = await Promise.all(Array.from({ length: 50 }, (_, i) => submissionZip('regrade', base + i)));
    const live = await submissionZip('live', base + 50);
    for (const file of regrades) await mosquittoPub(brokerOf(stack.config), file.path);
    const regradeIds = regrades.map((file) => ingestWorkflowId(file.sha256));
    // Every regrade has asked for the one slot before the live one is published.
    await waitFor(async () => ((await claimsOf(stack, regradeIds)).length === regradeIds.length ? true : null), {
      description: '50 regrades queued',
      intervalMs: 200,
      timeoutMs: 90_000,
    });
    await mosquittoPub(brokerOf(stack.config), live.path);
    const liveId = ingestWorkflowId(live.sha256);
    const liveRun = await stack.waitForRun(liveId, undefined, 120_000);
    assert.equal(liveRun.state, 'completed', liveRun.failureReason ?? '');

    const rows = await claimsOf(stack, [...regradeIds, liveId]);
    const liveRow = rows.find((row) => row.workflowId === liveId);
    assert.ok(liveRow?.claimedAt && liveRow.startedAt);
    assert.equal(liveRow.lane, 'live', 'ingested before its late due date');
    const regradeRows = rows.filter((row) => row.workflowId !== liveId);
    assert.deepEqual(new Set(regradeRows.map((row) => row.lane)), new Set(['regrade']), 're-published after it');
    // Still queued when the live one arrived: no slot yet at its queued_at.
    const behind = regradeRows.filter((row) => row.claimedAt === null || row.claimedAt > liveRow.queuedAt);
    // A node takes its slot and its prefetch place while the live zip is ingested: most are still waiting.
    assert.ok(behind.length >= 30, `only ${behind.length} regrades were still queued`);
    const startedBefore = behind.filter(
      (row) => row.startedAt !== null && row.startedAt.getTime() <= (liveRow.startedAt?.getTime() ?? 0),
    );
    assert.deepEqual(startedBefore, [], 'regrades queued before the live one started before it');

    // `greengrader expedite` on the last regrade, still queued: it takes a slot before every other waiting one.
    const lastId = regradeIds.at(-1) ?? '';
    const waiting = (await claimsOf(stack, regradeIds)).filter((row) => row.claimedAt === null);
    assert.ok(waiting.some((row) => row.workflowId === lastId) && waiting.length >= 10, `${waiting.length} waiting`);
    const expedite = await runCli(['expedite', String(base + 49)], cliEnvOf(stack.config));
    assert.equal(expedite.code, 0, expedite.stderr);
    assert.match(expedite.stdout, new RegExp(`expedited ${lastId} \\(queued\\)`));
    const signalledAt = new Date();
    await stack.waitForRun(lastId, (run) => run.containerStartedAt !== null, 60_000);
    const rowsNow = await claimsOf(
      stack,
      waiting.map((row) => row.workflowId),
    );
    const expedited = rowsNow.find((row) => row.workflowId === lastId);
    assert.ok(expedited?.claimedAt);
    // Once the signal is in, at most the places already being handed out (the node's slot and its prefetch place)
    // may go to other runs before the expedited one claims.
    const overtook = rowsNow.filter(
      (row) =>
        row.workflowId !== lastId &&
        row.claimedAt !== null &&
        row.claimedAt > signalledAt &&
        row.claimedAt < (expedited.claimedAt ?? signalledAt),
    );
    assert.ok(overtook.length <= 2, `${overtook.length} waiting regrades claimed a slot before the expedited one`);
  });
});

describe('no lane starves', () => {
  let stack: GradingStack;
  before(async () => {
    stack = await startGradingStack({ env: STACK_ENV });
  });
  after(() => stack?.stop());

  it('interleaves regrades with a stream of live submissions at 4:1, and a rerun goes in the regrade lane', async () => {
    const base = randomInt(1_000_000_000);
    const regrades = await Promise.all(Array.from({ length: 6 }, (_, i) => submissionZip('regrade', base + i)));
    const lives = await Promise.all(Array.from({ length: 12 }, (_, i) => submissionZip('live', base + 6 + i)));
    // Regrades first, then live ones keep arriving while the regrades wait.
    for (const file of [...regrades, ...lives]) await mosquittoPub(brokerOf(stack.config), file.path);
    const ids = [...regrades, ...lives].map((file) => ingestWorkflowId(file.sha256));
    for (const id of ids) {
      const run = await stack.waitForRun(id, undefined, 180_000);
      assert.equal(run.state, 'completed', run.failureReason ?? '');
    }

    const rows = await claimsOf(stack, ids);
    const order = rows
      .sort((x, y) => (x.startedAt?.getTime() ?? Infinity) - (y.startedAt?.getTime() ?? Infinity))
      .map((row) => row.lane);
    // Up to the last regrade's start a regrade was always waiting: live runs may take at most their weight in a row.
    const untilLastRegrade = order.slice(0, order.lastIndexOf('regrade') + 1);
    assert.ok(longestRun(untilLastRegrade, 'live') <= LIVE_WEIGHT + 1, `start order ${order.join(' ')}`);
    assert.ok(order.slice(0, order.lastIndexOf('live')).includes('regrade'), `regrades interleave: ${order.join(' ')}`);
    assert.ok(order.indexOf('live') < order.lastIndexOf('regrade') - 1, `live runs go first: ${order.join(' ')}`);

    // A rerun of a live submission is a regrade.
    const rerun = await runCli(['rerun', String(base + 6), '--wait'], cliEnvOf(stack.config));
    assert.equal(rerun.code, 0, rerun.stderr);
    const [rerunRow] = await stack.database.db
      .select({ lane: runSlotClaims.lane })
      .from(runSlotClaims)
      .innerJoin(gradingRuns, eq(gradingRuns.id, runSlotClaims.runId))
      .where(and(eq(gradingRuns.trigger, 'rerun'), isNull(gradingRuns.failureReason)));
    assert.equal(rerunRow?.lane, 'regrade');
    const [held] = await stack.database.db
      .select({ count: sql<number>`count(*)::int` })
      .from(runSlotClaims)
      .where(isNull(runSlotClaims.releasedAt));
    assert.equal(held?.count, 0, 'every claim was given back');
  });
});

/** The longest stretch of `lane` in a row. */
function longestRun(order: RunLane[], lane: RunLane): number {
  let longest = 0;
  let current = 0;
  for (const each of order) {
    current = each === lane ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}
