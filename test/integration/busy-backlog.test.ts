// Busy is not dead: a backlog far longer than the pickup timeout on one 2-slot node is graded in full, queued
// instead of failed; the node holds no more runs than its slots plus its prefetch, and runs no more graders at
// once than its slots while it prepares the next runs' containers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { and, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { gradingRuns, runSlotClaims } from '../../src/db/schema.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { cpuGraderZip } from '../support/cpu-grader.js';
import { NODE_LABEL } from '../../src/executors/docker/grader-container.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

const RUNS = 40;
const SLOTS = 2;
const PREFETCH = 2;
const CPU_SEC = 1;
/**
 * 10 s instead of the 30 s: the semantics are the same (a run not picked up within it used to fail its
 * node), and the backlog (40 × ≥1 s of CPU on 2 slots, plus container starts) outlasts it several times over
 * while the test stays near a minute.
 */
const PICKUP_TIMEOUT_SEC = 10;

describe('a backlog on a busy node', () => {
  let stack: GradingStack;

  before(async () => {
    stack = await startGradingStack({
      env: {
        NODE_MAX_CONCURRENT_RUNS: String(SLOTS),
        NODE_PREFETCH_RUNS: String(PREFETCH),
        NODE_PICKUP_TIMEOUT_SEC: String(PICKUP_TIMEOUT_SEC),
        GRADER_TIMEOUT_SEC: '60',
      },
    });
  });

  after(() => stack?.stop());

  it('grades all 40 runs, fails none, never holds more than slots + prefetch nor runs more graders than slots', async () => {
    const { db } = stack.database;
    const docker = new Docker();
    const nodeName = stack.nodes[0]?.nodeName ?? '';
    const files = await Promise.all(
      Array.from({ length: RUNS }, async (_, i) =>
        writeZipFile(await cpuGraderZip(CPU_SEC, `backlog-${i}-${randomUUID()}`)),
      ),
    );
    const started = Date.now();
    for (const file of files) await mosquittoPub(brokerOf(stack.config), file.path);

    // Sampled while the backlog drains: the most runs on the node and the most slots held at any one time.
    let mostActive = 0;
    let mostHeld = 0;
    let queuedSeen = 0;
    let mostContainers = 0;
    const rows = await waitFor(
      async () => {
        const [load] = await db
          .select({
            active: sql<number>`count(*) filter (where ${inArray(gradingRuns.state, ['placed', 'running'])})::int`,
            queued: sql<number>`count(*) filter (where ${gradingRuns.state} = 'queued')::int`,
            done: sql<number>`count(*) filter (where ${inArray(gradingRuns.state, ['completed', 'failed'])})::int`,
          })
          .from(gradingRuns);
        const [held] = await db
          .select({ count: sql<number>`count(*)::int` })
          .from(runSlotClaims)
          .where(and(isNotNull(runSlotClaims.nodeName), isNull(runSlotClaims.releasedAt)));
        const onNode = await docker.listContainers({ filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
        mostContainers = Math.max(mostContainers, onNode.length);
        mostActive = Math.max(mostActive, load?.active ?? 0);
        mostHeld = Math.max(mostHeld, held?.count ?? 0);
        queuedSeen = Math.max(queuedSeen, load?.queued ?? 0);
        if ((load?.done ?? 0) < RUNS) return null;
        return db.select().from(gradingRuns);
      },
      { description: `${RUNS} runs finished`, intervalMs: 200, timeoutMs: 400_000 },
    );
    const elapsedSec = (Date.now() - started) / 1000;

    assert.equal(rows.length, RUNS);
    const failed = rows.filter((row) => row.state !== 'completed' || row.outcome !== 'graded');
    assert.deepEqual(
      failed.map((row) => `${row.state}/${row.outcome}: ${row.failureReason}`),
      [],
    );
    const claims = SLOTS + PREFETCH;
    assert.ok(mostActive <= claims, `${mostActive} runs were placed or running on a ${SLOTS}+${PREFETCH} node`);
    assert.ok(mostHeld <= claims, `${mostHeld} claims held on a ${SLOTS}+${PREFETCH} node`);
    // Each row's container times span its grader while it held a slot: never more overlap than slots.
    assert.ok(mostOverlapping(rows) <= SLOTS, `${mostOverlapping(rows)} graders ran at once on a ${SLOTS}-slot node`);
    // The next runs' containers were prepared while the slots' graders ran.
    assert.ok(mostContainers > SLOTS, `at most ${mostContainers} containers on the node at once`);
    assert.ok(queuedSeen > SLOTS, 'runs waited in the queue');
    assert.ok(elapsedSec > 2 * PICKUP_TIMEOUT_SEC, `the backlog lasted ${elapsedSec} s: longer than the timeout`);
    // The longest a run waited between arriving and taking its slot: longer than the pickup timeout it survived.
    const longestWaitSec = Math.max(
      ...rows.map((row) => ((row.placedAt?.getTime() ?? 0) - row.receivedAt.getTime()) / 1000),
    );
    assert.ok(longestWaitSec > PICKUP_TIMEOUT_SEC, `longest wait for a slot ${longestWaitSec} s`);
    const workflowIds = files.map((file) => ingestWorkflowId(file.sha256));
    assert.equal(new Set(rows.map((row) => row.workflowId)).size, new Set(workflowIds).size);
  });
});

/** The most graders running at one instant, from their recorded start and end (an end before a start at a tie). */
function mostOverlapping(rows: { containerStartedAt: Date | null; containerFinishedAt: Date | null }[]): number {
  const events = rows.flatMap((row) =>
    row.containerStartedAt && row.containerFinishedAt
      ? [
          { at: row.containerStartedAt.getTime(), delta: 1 },
          { at: row.containerFinishedAt.getTime(), delta: -1 },
        ]
      : [],
  );
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const event of events) {
    running += event.delta;
    most = Math.max(most, running);
  }
  return most;
}
