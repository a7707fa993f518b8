// Slot claims in a real PostgreSQL: atomic under races, weighted-fair between lanes, and never over a node's slots.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { gradingRuns, rawPayloads, runSlotClaims } from '../../src/db/schema.js';
import { claimOrQueue, releaseHeldClaim, waitersForFreeSlots, type ClaimOutcome } from '../../src/db/slot-claims.js';
import { SLOT_QUEUE_LOCK } from '../../src/db/slot-queue-lock.js';
import type { RunLane } from '../../src/shared/lanes.js';
import { requireEnv } from '../support/env.js';
import { insertNodeRow } from '../support/node-row.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { waitFor } from '../support/wait-for.js';

const WEIGHTS: Record<RunLane, number> = { live: 4, regrade: 1 };
const REGION = 'us-west';

describe('slot claims', () => {
  let fresh: FreshDatabase;
  let a: DatabaseHandle;
  let b: DatabaseHandle;

  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    a = connectDatabase(fresh.url);
    b = connectDatabase(fresh.url);
    await migrateDatabase(a.pool);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await fresh?.drop();
  });

  beforeEach(async () => {
    await a.db.execute(sql`truncate run_slot_claims, grading_runs, raw_payloads, nodes cascade`);
  });

  async function addNode(name: string, slots: number, lastSeenAt = new Date(), prefetchRuns = 0, region = REGION) {
    await insertNodeRow(a.db, { name, region, slots, prefetchRuns, lastSeenAt });
  }

  async function workflowIdOf(runId: string): Promise<string> {
    const [row] = await a.db
      .select({ workflowId: gradingRuns.workflowId })
      .from(gradingRuns)
      .where(eq(gradingRuns.id, runId));
    assert.ok(row);
    return row.workflowId;
  }

  async function addRun(): Promise<string> {
    const sha256 = randomUUID();
    await a.db.insert(rawPayloads).values({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' });
    const [row] = await a.db
      .insert(gradingRuns)
      .values({ workflowId: `wf-${sha256}`, payloadSha256: sha256, trigger: 'ingest', receivedAt: new Date() })
      .returning({ id: gradingRuns.id });
    assert.ok(row);
    return row.id;
  }

  const claim = (
    handle: DatabaseHandle,
    runId: string,
    lane: RunLane,
    node = 'n1',
    expedite = false,
  ): Promise<ClaimOutcome> =>
    claimOrQueue(handle.db, {
      expedite,
      runId,
      lane,
      laneWeight: WEIGHTS[lane],
      preferredNode: { name: node, region: REGION },
      excludeNodes: [],
      liveSince: new Date(Date.now() - 30_000),
    });

  async function held(nodeName: string): Promise<number> {
    const [row] = await a.db
      .select({ count: sql<number>`count(*)::int` })
      .from(runSlotClaims)
      .where(
        and(eq(runSlotClaims.nodeName, nodeName), isNotNull(runSlotClaims.nodeName), isNull(runSlotClaims.releasedAt)),
      );
    return row?.count ?? 0;
  }

  it('gives the last slot to exactly one of two runs racing for it, round after round', async () => {
    await addNode('n1', 1);
    for (let round = 0; round < 10; round++) {
      const [first, second] = [await addRun(), await addRun()];
      // Two pools, two connections: the claims really run at the same time.
      const outcomes = await Promise.all([claim(a, first, 'live'), claim(b, second, 'live')]);
      const winners = outcomes.filter((outcome) => outcome.kind === 'claimed');
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
      assert.equal(await held('n1'), 1);
      // The winner finishes; the loser takes the freed slot on its next try, then finishes too.
      const winner = outcomes[0]?.kind === 'claimed' ? first : second;
      const loser = winner === first ? second : first;
      await releaseHeldClaim(a.db, winner);
      assert.equal((await claim(a, loser, 'live')).kind, 'claimed');
      await releaseHeldClaim(a.db, loser);
    }
  });

  it('dates a queue entry and a claim from when the queue lock was granted, not from when the claim began to wait', async () => {
    await addNode('n1', 1);
    const [queuedRun, claimedRun] = [await addRun(), await addRun()];
    // Another claim holds the queue's lock while these two wait for it: the first to get it is not the first to ask.
    const holder = await b.pool.connect();
    try {
      await holder.query(`begin; ${SLOT_QUEUE_LOCK}`);
      const claims = [claim(a, claimedRun, 'live'), claim(a, queuedRun, 'regrade')];
      await waitFor(
        async () => {
          const { rows } = await holder.query<{ waiting: number }>(
            `select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted`,
          );
          return rows[0]?.waiting === 2 ? true : null;
        },
        { description: 'both claims waiting for the queue lock', intervalMs: 20, timeoutMs: 10_000 },
      );
      // Apart by more than the millisecond a JS Date keeps: the old stamps (the claims' `begin`) compare as earlier.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { rows } = await holder.query<{ at: Date }>('select clock_timestamp() as at');
      await holder.query('commit');
      const outcomes = await Promise.all(claims);
      assert.deepEqual(outcomes.map((outcome) => outcome.kind).sort(), ['claimed', 'queued']);
      const grantedAfter = rows[0]?.at ?? new Date();
      const stamps = await a.db
        .select({ queuedAt: runSlotClaims.queuedAt, startsAt: runSlotClaims.startsAt })
        .from(runSlotClaims);
      const times = stamps.flatMap((row) => (row.startsAt ? [row.queuedAt, row.startsAt] : [row.queuedAt]));
      assert.equal(times.length, 3, 'two queue entries and one claim');
      for (const time of times)
        assert.ok(time >= grantedAfter, `${time.toISOString()} < ${grantedAfter.toISOString()}`);
    } finally {
      // Never back to the pool inside a transaction holding the lock, should a step above have thrown.
      await holder.query('rollback');
      holder.release();
    }
  });

  it('never claims more slots than a node has, and offers none on a node that stopped checking in', async () => {
    await addNode('n1', 2);
    await addNode('dead', 4, new Date(Date.now() - 3600_000));
    const runs = await Promise.all(Array.from({ length: 6 }, () => addRun()));
    const outcomes = await Promise.all(runs.map((run, i) => claim(i % 2 ? a : b, run, 'live')));
    assert.equal(outcomes.filter((outcome) => outcome.kind === 'claimed').length, 2);
    assert.equal(await held('n1'), 2);
    assert.equal(await held('dead'), 0);
    const queued = outcomes.flatMap((outcome) => (outcome.kind === 'queued' ? [outcome.position] : []));
    assert.deepEqual(
      queued.sort((x, y) => x - y),
      [1, 2, 3, 4],
      'each queued run knows its place',
    );
  });

  it('gives a node with prefetch its slots plus its prefetch in claims, and queues the rest', async () => {
    await addNode('n1', 2, new Date(), 2);
    const runs = await Promise.all(Array.from({ length: 7 }, () => addRun()));
    const outcomes = await Promise.all(runs.map((run, i) => claim(i % 2 ? a : b, run, 'live')));
    assert.equal(outcomes.filter((outcome) => outcome.kind === 'claimed').length, 4);
    assert.equal(await held('n1'), 4);
    const claimedRun = runs[outcomes.findIndex((outcome) => outcome.kind === 'claimed')] ?? '';
    await releaseHeldClaim(a.db, claimedRun);
    const waitingRun = runs[outcomes.findIndex((outcome) => outcome.kind === 'queued' && outcome.position === 1)];
    assert.equal((await claim(a, waitingRun ?? '', 'live')).kind, 'claimed', 'a freed claim goes to the first in line');
    assert.equal(await held('n1'), 4);
  });

  it('leaves a prefetch place to a run behind others woken for the same places until they have claimed', async () => {
    await addNode('n1', 1, new Date(), 1);
    const busy = [await addRun(), await addRun()];
    for (const run of busy) assert.equal((await claim(a, run, 'live')).kind, 'claimed');
    const [first, second] = [await addRun(), await addRun()];
    for (const run of [first, second]) assert.equal((await claim(a, run, 'live')).kind, 'queued');
    for (const run of busy) await releaseHeldClaim(a.db, run);

    // The idle slot and the prefetch place are both free. Had the second claimed first, the node would start it
    // first: it waits for the first in line.
    assert.deepEqual(await claim(a, second, 'live'), { kind: 'queued', position: 2, freeSlots: 2 });
    const taken = await claim(a, first, 'live');
    assert.deepEqual(taken, { kind: 'claimed', nodeName: 'n1', region: REGION, wake: [await workflowIdOf(second)] });
    assert.equal((await claim(a, second, 'live')).kind, 'claimed', 'woken, it takes the prefetch place');
  });

  it('lets runs behind others take idle slots at once, as many as there are', async () => {
    await addNode('n1', 2, new Date(), 2);
    const [first, second, third] = [await addRun(), await addRun(), await addRun()];
    const waiting = [first, second, third];
    // Queued before the node had room: a node of two idle slots and two prefetch places joins.
    await a.db.execute(sql`update nodes set max_concurrent_runs = 0, prefetch_runs = 0 where name = 'n1'`);
    for (const run of waiting) assert.equal((await claim(a, run, 'live')).kind, 'queued');
    await a.db.execute(sql`update nodes set max_concurrent_runs = 2, prefetch_runs = 2 where name = 'n1'`);
    assert.equal((await claim(a, second, 'live')).kind, 'claimed', 'one run ahead, two idle slots');
    assert.deepEqual(await claim(a, third, 'live'), { kind: 'queued', position: 2, freeSlots: 3 });
    assert.equal((await claim(a, first, 'live')).kind, 'claimed');
    assert.equal((await claim(a, third, 'live')).kind, 'claimed');
  });

  it('sends a run to a node with an idle slot before another node’s prefetch', async () => {
    await addNode('n1', 1, new Date(), 1);
    const busy = await addRun();
    assert.deepEqual(await claim(a, busy, 'live'), { kind: 'claimed', nodeName: 'n1', region: REGION, wake: [] });
    await addNode('n2', 1, new Date(), 1);
    const next = await addRun();
    const outcome = await claim(a, next, 'live', 'n1');
    assert.equal(outcome.kind === 'claimed' ? outcome.nodeName : outcome.kind, 'n2', 'n1’s slot is busy, n2’s idles');
  });

  it('lets a live run queued behind 50 regrades take the next free slot before them', async () => {
    await addNode('n1', 2);
    const busy = [await addRun(), await addRun()];
    for (const run of busy) assert.equal((await claim(a, run, 'regrade')).kind, 'claimed');
    const regrades: string[] = [];
    for (let i = 0; i < 50; i++) regrades.push(await addRun());
    for (const run of regrades) assert.equal((await claim(a, run, 'regrade')).kind, 'queued');
    const live = await addRun();
    assert.equal((await claim(a, live, 'live')).kind, 'queued', 'both slots are still busy');

    await releaseHeldClaim(a.db, busy[0] ?? '');
    // Every waiting run asks, regrades first: the live one still gets the slot.
    for (const run of regrades) assert.equal((await claim(a, run, 'regrade')).kind, 'queued');
    const outcome = await claim(a, live, 'live');
    assert.deepEqual(outcome.kind === 'claimed' ? outcome.nodeName : outcome, 'n1');
  });

  it('starves no lane: under a steady stream of live runs, regrades still get about a fifth of the slots', async () => {
    await addNode('n1', 1);
    const waiting = new Map<string, RunLane>();
    const enqueue = async (lane: RunLane) => {
      const run = await addRun();
      waiting.set(run, lane);
      await claim(a, run, lane);
    };
    for (let i = 0; i < 20; i++) await enqueue('regrade');
    const served: RunLane[] = [];
    for (let step = 0; step < 50; step++) {
      // Live runs keep arriving: always more of them waiting than slots.
      while ([...waiting.values()].filter((lane) => lane === 'live').length < 5) await enqueue('live');
      let claimed: string | null = null;
      for (const [run, lane] of waiting) {
        if ((await claim(a, run, lane)).kind === 'claimed') {
          claimed = run;
          break;
        }
      }
      assert.ok(claimed, `step ${step}: a free slot was left unclaimed`);
      served.push(waiting.get(claimed) ?? 'live');
      waiting.delete(claimed);
      await releaseHeldClaim(a.db, claimed);
    }
    const regradeShare = served.filter((lane) => lane === 'regrade').length / served.length;
    assert.ok(regradeShare >= 0.15 && regradeShare <= 0.25, `regrade share ${regradeShare}`);
  });

  it('keeps its place in the queue when its node failed it and it is queued again', async () => {
    await addNode('n1', 1);
    const [first, second, third] = [await addRun(), await addRun(), await addRun()];
    assert.equal((await claim(a, first, 'regrade')).kind, 'claimed');
    assert.equal((await claim(a, second, 'regrade')).kind, 'queued');
    // first's node failed it: its claim is released and it asks again, behind nobody it was ahead of.
    await releaseHeldClaim(a.db, first);
    const again = await claim(a, third, 'regrade');
    assert.equal(again.kind, 'queued', 'a newcomer does not jump the queue');
    assert.equal((await claim(a, first, 'regrade')).kind, 'claimed', 'the requeued run keeps its early tag');
  });

  it('puts an expedited queued run at the head of the queue, ahead of both lanes, expedited ones in turn', async () => {
    await addNode('n1', 1);
    const busy = await addRun();
    assert.equal((await claim(a, busy, 'live')).kind, 'claimed');
    const lives = [await addRun(), await addRun(), await addRun()];
    for (const run of lives) assert.equal((await claim(a, run, 'live')).kind, 'queued');
    const regrades = [await addRun(), await addRun()];
    for (const run of regrades) assert.equal((await claim(a, run, 'regrade')).kind, 'queued');
    const [lastRegrade, firstRegrade] = [regrades[1] ?? '', regrades[0] ?? ''];

    // The last regrade is expedited while queued: it becomes first in line, then the other regrade after it.
    assert.deepEqual(await claim(a, lastRegrade, 'regrade', 'n1', true), { kind: 'queued', position: 1, freeSlots: 0 });
    assert.deepEqual(await claim(a, firstRegrade, 'regrade', 'n1', true), {
      kind: 'queued',
      position: 2,
      freeSlots: 0,
    });
    // Asking again (the poll) keeps the first expedite's place.
    assert.deepEqual(await claim(a, lastRegrade, 'regrade', 'n1', true), { kind: 'queued', position: 1, freeSlots: 0 });

    await releaseHeldClaim(a.db, busy);
    // The freed slot's wake-up goes to the expedited run, and the live runs asking first do not get it.
    assert.deepEqual(await waitersForFreeSlots(a.db, REGION, new Date(Date.now() - 30_000)), [
      await workflowIdOf(lastRegrade),
    ]);
    for (const run of lives) assert.equal((await claim(a, run, 'live')).kind, 'queued');
    assert.equal((await claim(a, lastRegrade, 'regrade')).kind, 'claimed');
    await releaseHeldClaim(a.db, lastRegrade);
    assert.equal((await claim(a, lives[0] ?? '', 'live')).kind, 'queued', 'the second expedited run is next');
    assert.equal((await claim(a, firstRegrade, 'regrade')).kind, 'claimed');
    await releaseHeldClaim(a.db, firstRegrade);
    // Then the lanes' own order again.
    assert.equal((await claim(a, lives[0] ?? '', 'live')).kind, 'claimed');
  });

  it("a queued run at its deadline spills to a free node of its spill order, behind that region's own waiters", async () => {
    await addNode('n1', 1);
    await addNode('east-1', 1, new Date(), 0, 'us-east');
    const [holder, late, eastHolder, eastWaiter] = [await addRun(), await addRun(), await addRun(), await addRun()];
    assert.equal((await claim(a, holder, 'live')).kind, 'claimed');
    assert.equal((await claim(a, late, 'live')).kind, 'queued');
    const spillClaim = (spillTo: string[]) =>
      claimOrQueue(a.db, {
        runId: late,
        lane: 'live',
        laneWeight: WEIGHTS.live,
        preferredNode: { name: 'n1', region: REGION },
        excludeNodes: [],
        liveSince: new Date(Date.now() - 30_000),
        spillTo,
      });
    // East is busy and has a waiter of its own: the late run does not jump that queue.
    const eastClaim = (runId: string) =>
      claimOrQueue(a.db, {
        runId,
        lane: 'live',
        laneWeight: WEIGHTS.live,
        preferredNode: { name: 'east-1', region: 'us-east' },
        excludeNodes: [],
        liveSince: new Date(Date.now() - 30_000),
      });
    assert.equal((await eastClaim(eastHolder)).kind, 'claimed');
    assert.equal((await eastClaim(eastWaiter)).kind, 'queued');
    await releaseHeldClaim(a.db, eastHolder);
    assert.equal((await spillClaim(['east-1'])).kind, 'queued', 'the east waiter comes first');
    assert.equal((await eastClaim(eastWaiter)).kind, 'claimed');
    await releaseHeldClaim(a.db, eastWaiter);
    // Now east has a free slot and nobody waiting: the run past its deadline takes it instead of waiting on n1.
    assert.deepEqual(await spillClaim(['east-1']), {
      kind: 'claimed',
      nodeName: 'east-1',
      region: 'us-east',
      wake: [],
    });
    const [row] = await a.db.select().from(runSlotClaims).where(eq(runSlotClaims.runId, late));
    assert.equal(row?.region, 'us-east', 'its release wakes the runs waiting where it runs');
    assert.equal(await held('east-1'), 1);
  });
});
