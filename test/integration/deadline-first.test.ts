// Deadline-first service in the real slot queue (PostgreSQL): within a lane, runs claim freed slots earliest
// deadline first, so a run at its spill time goes before runs queued earlier with slack; the lanes' weighted-fair
// turns are kept.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { claimOrQueue, releaseHeldClaim, waitersForFreeSlots, type ClaimOutcome } from '../../src/db/slot-claims.js';
import type { RunLane } from '../../src/shared/lanes.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { insertNodeRow } from '../support/node-row.js';
import { insertRunRow } from '../support/run-row.js';

const WEIGHTS: Record<RunLane, number> = { live: 4, regrade: 1 };
const REGION = 'us-west';
const NODE = 'n1';
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

describe('deadline-first slot queue', () => {
  let database: MigratedDatabase;

  before(async () => {
    database = await createMigratedDatabase();
  });

  after(async () => {
    await database?.drop();
  });

  beforeEach(async () => {
    await database.db.execute(sql`truncate run_slot_claims, grading_runs, raw_payloads, nodes cascade`);
    // One slot and no prefetch: every run but the one holding it waits.
    await insertNodeRow(database.db, { name: NODE, region: REGION });
  });

  /** A run due `inMs` from now (its spill time is a minute before), its id and workflow id. */
  const addRun = (inMs: number) => insertRunRow(database.db, { deadlineAt: new Date(Date.now() + inMs) });

  const claim = (runId: string, lane: RunLane = 'live'): Promise<ClaimOutcome> =>
    claimOrQueue(database.db, {
      runId,
      lane,
      laneWeight: WEIGHTS[lane],
      preferredNode: { name: NODE, region: REGION },
      excludeNodes: [],
      liveSince: new Date(Date.now() - 30_000),
    });

  /** Where each run stands in the queue now (1: next to claim), by asking its claim again. */
  const positions = async (runIds: readonly string[]) =>
    Promise.all(
      runIds.map(async (runId) => {
        const outcome = await claim(runId);
        assert.equal(outcome.kind, 'queued', `run ${runId} was expected to wait`);
        return outcome.kind === 'queued' ? outcome.position : 0;
      }),
    );

  it('a queued run at its spill time is served before an earlier-queued run with hours of slack', async () => {
    const holder = await addRun(5 * HOUR_MS);
    assert.equal((await claim(holder.runId)).kind, 'claimed');
    const withSlack = await addRun(5 * HOUR_MS);
    const due = await addRun(30_000);
    assert.deepEqual(await claim(withSlack.runId), { kind: 'queued', position: 1, freeSlots: 0 });
    assert.deepEqual(await claim(due.runId), { kind: 'queued', position: 1, freeSlots: 0 });
    assert.deepEqual(await positions([withSlack.runId, due.runId]), [2, 1]);

    await releaseHeldClaim(database.db, holder.runId);
    // The release wakes the due run, and the slack run's claim leaves the slot to it.
    assert.deepEqual(await waitersForFreeSlots(database.db, REGION, new Date(Date.now() - 30_000)), [due.workflowId]);
    assert.equal((await claim(withSlack.runId)).kind, 'queued');
    assert.equal((await claim(due.runId)).kind, 'claimed');
  });

  it('a run with slack is not starved: only runs due before it go first, later ones queue behind it', async () => {
    const holder = await addRun(5 * HOUR_MS);
    await claim(holder.runId);
    const withSlack = await addRun(5 * HOUR_MS);
    const dueLater = await addRun(50_000);
    const dueSooner = await addRun(20_000);
    for (const run of [withSlack, dueLater, dueSooner]) await claim(run.runId);
    assert.deepEqual(await positions([withSlack.runId, dueLater.runId, dueSooner.runId]), [3, 2, 1]);
    // Runs arriving after it with later deadlines (as every run arriving after its deadline has) queue behind it.
    const after = [await addRun(6 * HOUR_MS), await addRun(7 * HOUR_MS)];
    for (const run of after) await claim(run.runId);
    assert.deepEqual(await positions([withSlack.runId, ...after.map((run) => run.runId)]), [3, 4, 5]);
  });

  it('keeps the lanes: a due regrade run takes its own lane’s turn, never a live run’s', async () => {
    const holder = await addRun(5 * HOUR_MS);
    await claim(holder.runId);
    // Queued in this order; by start tags (live weight 4, regrade 1) the queue serves
    // live1, live2, live3, regrade1, live4, regrade2.
    const regrade1 = await addRun(5 * HOUR_MS);
    await claim(regrade1.runId, 'regrade');
    const live = [];
    for (let i = 0; i < 4; i++) {
      const run = await addRun(5 * HOUR_MS);
      await claim(run.runId);
      live.push(run.runId);
    }
    const regrade2 = await addRun(30_000);
    await claim(regrade2.runId, 'regrade');
    // The due regrade run takes the regrade lane's first turn (4th); the live runs keep theirs.
    assert.deepEqual(await positions([...live, regrade2.runId, regrade1.runId]), [1, 2, 3, 5, 4, 6]);
  });

  it('keeps the 4:1 lane shares when every run is due, deadlines against the queue order', async () => {
    const holder = await addRun(-HOUR_MS);
    await claim(holder.runId);
    // All past their spill time (no slack at all), each lane's later-queued runs due first: every claim takes
    // another run's turn in its lane.
    const queued: Array<{ runId: string; workflowId: string; lane: RunLane }> = [];
    for (let i = 0; i < 6; i++) queued.push({ ...(await addRun(-HOUR_MS - i * 1000)), lane: 'regrade' });
    for (let i = 0; i < 12; i++) queued.push({ ...(await addRun(-HOUR_MS - i * 1000)), lane: 'live' });
    for (const run of queued) await claim(run.runId, run.lane);
    const order: RunLane[] = [];
    const served: string[] = [];
    let running = holder.runId;
    for (let turn = 0; turn < queued.length; turn++) {
      await releaseHeldClaim(database.db, running);
      const [next] = await waitersForFreeSlots(database.db, REGION, new Date(Date.now() - 30_000));
      const run = queued.find((each) => each.workflowId === next);
      assert.ok(run, `turn ${turn}: woke ${next}`);
      assert.equal((await claim(run.runId)).kind, 'claimed');
      order.push(run.lane);
      served.push(run.runId);
      running = run.runId;
    }
    // The weighted-fair order by start tags alone, as without deadlines: a lane that serves a run out of turn
    // uses up its turn, it does not claim again ahead of the other lane.
    assert.equal(
      order.join(' '),
      'live live live regrade live live live live regrade live live live live regrade live regrade regrade regrade',
    );
    // And within each lane, earliest deadline first.
    const inLane = (lane: RunLane) => queued.filter((run) => run.lane === lane).map((run) => run.runId);
    assert.deepEqual(
      served.filter((id) => inLane('live').includes(id)),
      inLane('live').reverse(),
    );
    assert.deepEqual(
      served.filter((id) => inLane('regrade').includes(id)),
      inLane('regrade').reverse(),
    );
  });
});
