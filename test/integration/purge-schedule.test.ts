// The purge drops exactly what is past its time (payload bytes, rejected messages, run output) and nothing else;
// the orchestrator keeps one Temporal Schedule that runs it.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { eq, inArray } from 'drizzle-orm';
import type { PurgeOutput } from '../../src/cli/commands/purge.js';
import { purgeExpired } from '../../src/db/retention-purge.js';
import { gradingRuns, rawPayloads, rejectedMessages } from '../../src/db/schema.js';
import { metrics } from '../../src/observability/metrics.js';
import { ensurePurgeSchedule, purgeScheduleId } from '../../src/workers/purge-schedule.js';
import { runCliJson } from '../cli/support/run-cli.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { waitFor } from '../support/wait-for.js';

const DAY_MS = 86_400_000;
const sha = () => randomBytes(32).toString('hex');
const purgedTotal = async (kind: string) =>
  (await metrics.purged.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;

describe('retention purge', () => {
  let stack: GradingStack;

  before(async () => {
    stack = await startGradingStack({ nodes: 0, bridge: false, env: { RUN_OUTPUT_RETENTION_DAYS: '30' } });
  });
  after(async () => {
    await stack?.temporal.schedule
      .getHandle(purgeScheduleId(stack.config))
      .delete()
      .catch(() => undefined);
    await stack?.stop();
  });

  const payload = (purgeAfter: Date | null, status: 'received' | 'stored' | 'rejected' = 'stored') => ({
    sha256: sha(),
    bytes: randomBytes(64),
    bytesKeyId: status === 'received' ? null : 'k1',
    sizeBytes: 64,
    topic: 't',
    status,
    purgeAfter,
  });
  const message = (purgeAfter: Date) => ({
    topic: 't',
    sizeBytes: 9,
    bytes: randomBytes(9),
    bytesKeyId: 'k1',
    purgeAfter,
    truncated: false,
    sha256: sha(),
    rejectionCode: 'not-a-zip',
    rejectionReason: 'not a zip',
  });
  const tests = [
    { name: 'adds', score: 1, output: 'Alice Student printed this' },
    { name: 'subtracts', score: 0 },
  ];
  const run = (payloadSha256: string, recordedAt: Date | null) => ({
    workflowId: `synthetic-${randomUUID()}`,
    payloadSha256,
    trigger: 'ingest' as const,
    state: recordedAt === null ? ('running' as const) : ('completed' as const),
    receivedAt: new Date(),
    recordedAt,
    output: 'grader log: Alice Student',
    resultsJson: '{"tests":[]}',
    tests,
  });

  it('drops exactly what is past its time; a dry run counts the same and changes nothing', async () => {
    const { db } = stack.database;
    const now = new Date();
    const past = new Date(now.getTime() - 1000);
    const future = new Date(now.getTime() + DAY_MS);
    const [due, notDue, pending, dueQuarantined] = [
      payload(past),
      payload(future),
      payload(null, 'received'),
      payload(past, 'rejected'),
    ];
    await db.insert(rawPayloads).values([due, notDue, pending, dueQuarantined]);
    const [messageDue, messageNotDue] = await db
      .insert(rejectedMessages)
      .values([message(past), message(future)])
      .returning();
    const [oldRun, recentRun, openRun] = await db
      .insert(gradingRuns)
      .values([
        run(notDue.sha256, new Date(now.getTime() - 31 * DAY_MS)),
        run(notDue.sha256, new Date(now.getTime() - 29 * DAY_MS)),
        run(notDue.sha256, null),
      ])
      .returning();
    assert.ok(messageDue && messageNotDue && oldRun && recentRun && openRun);

    const dry = await runCliJson<PurgeOutput>(['purge', '--dry-run'], {
      DATABASE_URL: stack.config.DATABASE_URL,
      RUN_OUTPUT_RETENTION_DAYS: '30',
    });
    assert.deepEqual(dry.purged, { rawPayloads: 2, rejectedMessages: 1, runOutputs: 1 });
    assert.equal(dry.dryRun, true);
    const payloadsBefore = await db.select().from(rawPayloads).orderBy(rawPayloads.sha256);

    const options = { now, runOutputRetentionDays: 30, dryRun: false };
    assert.deepEqual(await purgeExpired(db, options), { rawPayloads: 2, rejectedMessages: 1, runOutputs: 1 });
    assert.deepEqual(await purgeExpired(db, options), { rawPayloads: 0, rejectedMessages: 0, runOutputs: 0 });

    const payloads = new Map((await db.select().from(rawPayloads)).map((row) => [row.sha256, row]));
    for (const gone of [due, dueQuarantined]) {
      const row = payloads.get(gone.sha256);
      assert.equal(row?.bytes, null);
      assert.equal(row?.bytesKeyId, null);
      assert.equal(row?.status, gone.status, 'the row and its status stay');
      assert.deepEqual(row?.bytesPurgedAt, now);
    }
    for (const kept of [notDue, pending]) assert.deepEqual(payloads.get(kept.sha256)?.bytes, kept.bytes);
    assert.equal(payloadsBefore.length, payloads.size, 'no row deleted');

    const messages = new Map(
      (
        await db
          .select()
          .from(rejectedMessages)
          .where(inArray(rejectedMessages.id, [messageDue.id, messageNotDue.id]))
      ).map((row) => [row.id, row]),
    );
    assert.equal(messages.get(messageDue.id)?.bytes, null);
    assert.equal(messages.get(messageDue.id)?.rejectionCode, 'not-a-zip');
    assert.deepEqual(messages.get(messageNotDue.id)?.bytes, messageNotDue.bytes);

    const runs = new Map((await db.select().from(gradingRuns)).map((row) => [row.id, row]));
    const old = runs.get(oldRun.id);
    assert.equal(old?.output, null);
    assert.equal(old?.resultsJson, null);
    assert.deepEqual(old?.tests, [
      { name: 'adds', score: 1 },
      { name: 'subtracts', score: 0 },
    ]);
    assert.deepEqual(old?.outputPurgedAt, now);
    for (const kept of [recentRun, openRun]) {
      assert.equal(runs.get(kept.id)?.output, 'grader log: Alice Student');
      assert.deepEqual(runs.get(kept.id)?.tests, tests);
    }
  });

  it('keeps one schedule across orchestrator restarts, and its run purges and counts what was due', async () => {
    const scheduleId = purgeScheduleId(stack.config);
    await stack.restartOrchestrator();
    assert.equal(await ensurePurgeSchedule(stack.temporal, stack.config), 'unchanged');
    const schedules: string[] = [];
    for await (const schedule of stack.temporal.schedule.list()) {
      if (schedule.scheduleId === scheduleId) schedules.push(schedule.scheduleId);
    }
    assert.deepEqual(schedules, [scheduleId]);
    const description = await stack.temporal.schedule.getHandle(scheduleId).describe();
    assert.deepEqual(
      description.spec.intervals?.map((i) => i.every),
      [stack.config.PURGE_INTERVAL_SEC * 1000],
    );

    const due = payload(new Date(Date.now() - 1000));
    await stack.database.db.insert(rawPayloads).values(due);
    const countedBefore = await purgedTotal('raw_payload');
    await stack.temporal.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    await waitFor(
      async () => {
        const [row] = await stack.database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, due.sha256));
        return row?.bytes === null;
      },
      { timeoutMs: 30_000, description: 'the scheduled purge dropped the due payload' },
    );
    assert.equal(await purgedTotal('raw_payload'), countedBefore + 1);
  });
});
