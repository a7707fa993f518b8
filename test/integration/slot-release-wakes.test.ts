// Every way a run gives its slot back wakes the run queued for it (real PostgreSQL; the wake-up, a Temporal signal
// in the product, is recorded here), so a cancelled or failed run's slot never waits for a queued run's backoff timer.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import { createReconcileActivities } from '../../src/activities/reconcile-activities.js';
import { createResultsActivities } from '../../src/activities/results-activities.js';
import { createRunActivities } from '../../src/activities/run-activities.js';
import { createSlotActivities } from '../../src/activities/slot-activities.js';
import { createSlotRelease } from '../../src/activities/slot-release.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';
import { loadConfig } from '../../src/config/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { gradingRuns, nodes, runReservations, runSlotClaims } from '../../src/db/schema.js';
import { createPostgresLedger } from '../../src/db/reservations.js';
import { claimOrQueue, releaseHeldClaim } from '../../src/db/slot-claims.js';
import { NODE_GONE_ERROR } from '../../src/shared/grading-types.js';
import { requireEnv } from '../support/env.js';
import { insertNodeRow } from '../support/node-row.js';
import { insertRunRow } from '../support/run-row.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { waitFor } from '../support/wait-for.js';

const NODE = 'n1';
const REGION = 'us-west';

describe('releasing a slot wakes the run queued for it', () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let woken: string[][];
  let release: ReturnType<typeof createSlotRelease>;

  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    handle = connectDatabase(fresh.url);
    await migrateDatabase(handle.pool);
    release = createSlotRelease(handle.db, { NODE_LIVENESS_SEC: 60 }, (ids) => {
      woken.push([...ids]);
      return Promise.resolve();
    });
  });

  after(async () => {
    await handle?.close();
    await fresh?.drop();
  });

  beforeEach(async () => {
    woken = [];
    await handle.db.execute(sql`truncate run_slot_claims, grading_runs, raw_payloads, nodes cascade`);
    await insertNodeRow(handle.db, { name: NODE, region: REGION });
  });

  const addRun = () => insertRunRow(handle.db);

  const claim = (runId: string) =>
    claimOrQueue(handle.db, {
      runId,
      lane: 'live',
      laneWeight: 1,
      preferredNode: { name: NODE, region: REGION },
      excludeNodes: [],
      liveSince: new Date(Date.now() - 30_000),
    });

  /** One run holds the node's only slot, the other waits for it. */
  async function busyNodeWithOneWaiting() {
    const holder = await addRun();
    const waiting = await addRun();
    assert.equal((await claim(holder.runId)).kind, 'claimed');
    assert.equal((await claim(waiting.runId)).kind, 'queued');
    return { holder, waiting };
  }

  it('a cancelled or failed run (failRun) wakes the run first in line', async () => {
    const { holder, waiting } = await busyNodeWithOneWaiting();
    await createRunActivities(handle.db, release).failRun({ runId: holder.runId, reason: 'cancelled' });
    assert.deepEqual(woken, [[waiting.workflowId]]);
    assert.equal((await claim(waiting.runId)).kind, 'claimed');
  });

  it('a run its node failed (releaseRun) wakes the run first in line', async () => {
    const { holder, waiting } = await busyNodeWithOneWaiting();
    await handle.db
      .update(gradingRuns)
      .set({ state: 'placed', nodeName: NODE })
      .where(eq(gradingRuns.id, holder.runId));
    await createRunActivities(handle.db, release).releaseRun({ runId: holder.runId, nodeName: NODE });
    assert.deepEqual(woken, [[waiting.workflowId]]);
  });

  it('recording a run whose slot is still held wakes the run first in line', async () => {
    const { holder, waiting } = await busyNodeWithOneWaiting();
    await createResultsActivities(handle.db, release).recordResults({
      runId: holder.runId,
      execution: {
        outcome: 'completed',
        exitCode: 0,
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        cpuTimeMs: 1,
        imageTag: 'assignment:test',
      },
    });
    assert.deepEqual(woken, [[waiting.workflowId]]);
  });

  it('a release racing with a claim that is queueing a run wakes that run once the claim commits', async () => {
    const { holder } = await busyNodeWithOneWaiting();
    const racing = await addRun();
    let commitClaim = () => undefined as void;
    const claimHeld = new Promise<void>((resolve) => (commitClaim = resolve));
    let locked = () => undefined as void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // A claim in flight: it holds the queue's lock and has queued its run, but not yet committed.
    const claiming = handle.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('greengrader:run-slot-claims'))`);
      await tx.insert(runSlotClaims).values({ runId: racing.runId, lane: 'live', queueTag: 0, region: REGION });
      locked();
      await claimHeld;
    });
    await lockTaken;
    const released = createRunActivities(handle.db, release).failRun({ runId: holder.runId, reason: 'cancelled' });
    try {
      // The release waits for the claim's lock instead of reading the queue without its run.
      await waitFor(
        async () => {
          const { rows } = await handle.db.execute<{ waiting: number }>(
            sql`select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted`,
          );
          return (rows[0]?.waiting ?? 0) > 0;
        },
        { description: 'the release waiting for the queue lock', timeoutMs: 5_000, intervalMs: 20 },
      );
    } finally {
      // Also on failure: a claim left open would hold the lock and the pool for good.
      commitClaim();
      await Promise.all([claiming, released]);
    }
    assert.equal(woken.length, 1);
    assert.ok(woken[0]?.includes(racing.workflowId), `woken ${JSON.stringify(woken)}`);
  });

  it('a queued run whose planned node stopped checking in gives its place back, so the next in line is woken', async () => {
    // Both slots of the region are held (n2 takes the second claim); the first run waits ahead of the second.
    await insertNodeRow(handle.db, { name: 'n2', region: REGION });
    const [onN1, onN2, first, second] = [await addRun(), await addRun(), await addRun(), await addRun()];
    assert.equal((await claim(onN1.runId)).kind, 'claimed');
    const both = await claim(onN2.runId);
    assert.equal(both.kind === 'claimed' ? both.nodeName : both.kind, 'n2');
    assert.deepEqual(await claim(first.runId), { kind: 'queued', position: 1, freeSlots: 0 });
    assert.deepEqual(await claim(second.runId), { kind: 'queued', position: 2, freeSlots: 0 });

    // n1, the node the first run was planned on, falls silent: its claim sends the run back to planning.
    await handle.db
      .update(nodes)
      .set({ lastSeenAt: new Date(Date.now() - 10 * 60_000) })
      .where(eq(nodes.name, NODE));
    const config = loadConfig({ DATABASE_URL: fresh.url, NODE_LIVENESS_SEC: '60' });
    const slots = createSlotActivities(handle.db, config, await loadRegionsConfig(), (ids) => {
      woken.push([...ids]);
      return Promise.resolve();
    });
    await assert.rejects(slots.claimSlot({ runId: first.runId, nodeName: NODE, excludeNodes: [] }), {
      type: NODE_GONE_ERROR,
    });
    const [row] = await handle.db
      .select({ releasedAt: runSlotClaims.releasedAt })
      .from(runSlotClaims)
      .where(eq(runSlotClaims.runId, first.runId));
    assert.ok(row?.releasedAt, 'the first run still waits in the queue of a region it may never run in');

    // n2's run ends: the second run is first in line now, not the one planning again (maybe hours later).
    woken = [];
    await createRunActivities(handle.db, release).failRun({ runId: onN2.runId, reason: 'cancelled' });
    assert.deepEqual(woken, [[second.workflowId]]);
    const claimed = await claim(second.runId);
    assert.equal(claimed.kind === 'claimed' ? claimed.nodeName : claimed.kind, 'n2');
  });

  it('reconciliation freeing the slot of a run that ended without releasing it wakes the run first in line', async () => {
    const { holder, waiting } = await busyNodeWithOneWaiting();
    // The holder's row is final (its workflow recorded it on a path that did not release), its claim still held.
    await handle.db.update(gradingRuns).set({ state: 'completed' }).where(eq(gradingRuns.id, holder.runId));
    // Both rows are within the grace period, so the pass asks Temporal about neither.
    const temporal = {} as unknown as Client;
    const { releasedClaims } = await createReconcileActivities(handle.db, temporal, release).reconcileRuns();
    assert.equal(releasedClaims, 1);
    assert.deepEqual(woken, [[waiting.workflowId]], 'the queued run would sleep until its fallback poll');
    assert.equal((await claim(waiting.runId)).kind, 'claimed');
  });

  it('a release of the node a run moved off, arriving late, frees neither the slot nor the booking it took since', async () => {
    await insertNodeRow(handle.db, { name: 'n2', region: REGION });
    const run = await addRun();
    assert.equal((await claim(run.runId)).kind, 'claimed');
    // n1 failed the run: it moves off n1, plans again and gets n2, booked there.
    const runs = createRunActivities(handle.db, release);
    await runs.releaseRun({ runId: run.runId, nodeName: NODE });
    const onN2 = await claimOrQueue(handle.db, {
      runId: run.runId,
      lane: 'live',
      laneWeight: 1,
      preferredNode: { name: 'n2', region: REGION },
      excludeNodes: [NODE],
      liveSince: new Date(Date.now() - 30_000),
    });
    assert.equal(onN2.kind === 'claimed' ? onN2.nodeName : onN2.kind, 'n2');
    const slot = { candidateId: 'n2', startMs: Date.now(), durationMs: 60_000 };
    await createPostgresLedger(handle.db).reserve(
      { runId: run.runId, candidateIds: ['n2'], fromMs: Date.now(), capacities: new Map([['n2', 1]]) },
      () => slot,
    );
    // An attempt of that first release which outlived its timeout (the database was slow) finishes only now.
    await runs.releaseRun({ runId: run.runId, nodeName: NODE });
    await createSlotActivities(handle.db, loadConfig({ DATABASE_URL: fresh.url }), await loadRegionsConfig(), () =>
      Promise.resolve(),
    ).releaseSlot({ runId: run.runId, nodeName: NODE });
    const [held] = await handle.db
      .select({ nodeName: runSlotClaims.nodeName, releasedAt: runSlotClaims.releasedAt })
      .from(runSlotClaims)
      .where(eq(runSlotClaims.runId, run.runId));
    assert.deepEqual(held, { nodeName: 'n2', releasedAt: null }, 'the slot on n2 was freed under the running grader');
    const [booking] = await handle.db
      .select({ candidateId: runReservations.candidateId })
      .from(runReservations)
      .where(eq(runReservations.runId, run.runId));
    assert.equal(booking?.candidateId, 'n2', 'the booking on n2 was freed');
  });

  it('a release that finds the slot already given back wakes nobody again', async () => {
    const { holder } = await busyNodeWithOneWaiting();
    await releaseHeldClaim(handle.db, holder.runId);
    await createRunActivities(handle.db, release).failRun({ runId: holder.runId, reason: 'cancelled' });
    assert.deepEqual(woken, []);
  });
});
