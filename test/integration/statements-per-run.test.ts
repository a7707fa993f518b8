// What a graded run's activities cost PostgreSQL in statements, through the whole stack (bridge, orchestrator,
// node): each statement is a round trip, work on the orchestrator's main thread and on the database's.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { Context } from '@temporalio/activity';
import pg from 'pg';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

const RUNS = 3;
/**
 * In the activities of a run graded at once (a queued one claims twice): 52 before openRun stopped reading back
 * the row it inserted, claimSlot read its planned node once, and finishing stopped releasing twice (47); the
 * release counts the region's waiters since a release nobody there wants wakes runs due to spill (48); 34 since
 * the slot queue's begin carries its lock, a claim reads free slots and its place at once, claimSlot reads run and
 * node at once and places the run only on a live node in one update, and storing writes in one statement; 32 since
 * a release frees reservation and claim in one statement and a node attempt begins as it reads the zip.
 */
const MAX_STATEMENTS_PER_RUN = 32;

let stack: GradingStack;
before(async () => {
  stack = await startGradingStack();
});
after(async () => {
  await stack?.stop();
});

/** Publishes one submission and waits for its grade through Temporal (no statement of the test's own). */
async function gradeOne(): Promise<void> {
  const zip = await buildGradescopeZip({ extra: { 'gradescope/test-nonce': randomUUID() } });
  const { path, sha256 } = await writeZipFile(zip);
  await mosquittoPub(brokerOf(stack.config), path);
  const handle = stack.temporal.workflow.getHandle(ingestWorkflowId(sha256));
  await waitFor(
    () =>
      handle.describe().then(
        () => true,
        () => null,
      ),
    {
      description: `workflow of ${sha256} started`,
      timeoutMs: 60_000,
      intervalMs: 100,
    },
  );
  const result = (await handle.result()) as { state: string };
  assert.equal(result.state, 'completed');
}

/** Whether the caller runs inside an activity (local or not): the statements a run's steps send. */
function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

it(
  `costs PostgreSQL at most ${MAX_STATEMENTS_PER_RUN} statements per run graded at once`,
  { timeout: 300_000 },
  async () => {
    await gradeOne(); // the assignment's image is built once, outside the count
    const bySql = new Map<string, number>();
    // Every statement of the stack's pools goes through a pg.Client's query (this process runs the whole stack).
    const query = Reflect.get(pg.Client.prototype, 'query') as (this: pg.Client, ...args: unknown[]) => unknown;
    pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
      if (inActivity()) {
        const first = args[0];
        const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
        const key = text.replace(/\s+/g, ' ').slice(0, 100);
        bySql.set(key, (bySql.get(key) ?? 0) + 1);
      }
      return query.apply(this, args);
    } as typeof pg.Client.prototype.query;
    try {
      // One after the other: each is graded at once (a queued run claims twice).
      for (let i = 0; i < RUNS; i++) await gradeOne();
    } finally {
      Reflect.set(pg.Client.prototype, 'query', query);
    }
    const perRun = [...bySql.values()].reduce((a, b) => a + b, 0) / RUNS;
    const listing = [...bySql.entries()].map(([sql, n]) => `${(n / RUNS).toFixed(2)} ${sql}`).join('\n');
    assert.ok(perRun <= MAX_STATEMENTS_PER_RUN, `${perRun} statements per run:\n${listing}`);
  },
);
