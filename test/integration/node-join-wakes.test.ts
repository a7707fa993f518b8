// A node that joins a region (or comes back to it) wakes the runs queued there at once (real PostgreSQL; the
// wake-up, a Temporal signal in the product, is recorded here): its free slots come from no release, and the
// queued runs' own fallback poll is minutes long.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createRegionWake } from '../../src/activities/slot-release.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { nodes } from '../../src/db/schema.js';
import { claimOrQueue } from '../../src/db/slot-claims.js';
import { silentLogger } from '../../src/observability/logger.js';
import { registerNode, type NodeIdentity } from '../../src/workers/node-registration.js';
import { watchSilentNodes } from '../../src/workers/silent-node-watch.js';
import { requireEnv } from '../support/env.js';
import { insertRunRow } from '../support/run-row.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { waitFor } from '../support/wait-for.js';

const REGION = 'us-west';
const LIVENESS_SEC = 30;
const HARDWARE = { ip: null, cpuModel: 'test', clockMhz: 1, sockets: 1, cores: 1, cacheBytes: null, memoryBytes: 1 };

describe('a node joining or leaving its region wakes the runs queued there', () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let woken: string[][];
  const stops: { stop(): Promise<void> }[] = [];

  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    handle = connectDatabase(fresh.url);
    await migrateDatabase(handle.pool);
  });

  after(async () => {
    for (const registration of stops.splice(0)) await registration.stop();
    await handle?.close();
    await fresh?.drop();
  });

  beforeEach(async () => {
    woken = [];
    for (const registration of stops.splice(0)) await registration.stop();
    await handle.db.execute(sql`truncate run_slot_claims, grading_runs, raw_payloads, nodes cascade`);
  });

  const identity = (name: string, region = REGION): NodeIdentity => ({
    name,
    kind: 'docker',
    taskQueue: `q-${name}`,
    region,
    zone: 'a',
    maxConcurrentRuns: 1,
    prefetchRuns: 0,
  });

  /** Registers a node as its worker does, with the wake-up the worker wires (recorded instead of signalled). */
  async function register(node: NodeIdentity, checkInIntervalMs = 60_000) {
    const wakeRegion = createRegionWake(handle.db, { NODE_LIVENESS_SEC: LIVENESS_SEC }, (ids) => {
      woken.push([...ids]);
      return Promise.resolve();
    });
    const registration = await registerNode(handle.db, node, HARDWARE, {
      checkInIntervalMs,
      livenessMs: LIVENESS_SEC * 1000,
      logger: silentLogger,
      onLive: async () => void (await wakeRegion(node.region)),
    });
    stops.push(registration);
    return registration;
  }

  const addRun = () => insertRunRow(handle.db);

  const claim = (runId: string, node = 'n1') =>
    claimOrQueue(handle.db, {
      runId,
      lane: 'live',
      laneWeight: 1,
      preferredNode: { name: node, region: REGION },
      excludeNodes: [],
      liveSince: new Date(Date.now() - LIVENESS_SEC * 1000),
    });

  /** The region's only node runs one run; two more wait for a slot. */
  async function fullRegionWithTwoWaiting() {
    await register(identity('n1'));
    const holder = await addRun();
    const first = await addRun();
    const second = await addRun();
    assert.equal((await claim(holder.runId)).kind, 'claimed');
    assert.equal((await claim(first.runId)).kind, 'queued');
    assert.equal((await claim(second.runId)).kind, 'queued');
    woken = [];
    return { first, second };
  }

  it('a node registering in the region wakes as many queued runs as it has free slots, first in line first', async () => {
    const { first } = await fullRegionWithTwoWaiting();
    await register(identity('n2'));
    assert.deepEqual(woken, [[first.workflowId]]);
    const claimed = await claim(first.runId);
    assert.equal(claimed.kind === 'claimed' ? claimed.nodeName : claimed.kind, 'n2');
  });

  it('a node registering in another region wakes nobody', async () => {
    await fullRegionWithTwoWaiting();
    await register(identity('far', 'eu-north'));
    assert.deepEqual(woken, []);
  });

  it('a node taken for dead wakes its region again on its next check-in', async () => {
    const { first } = await fullRegionWithTwoWaiting();
    await register(identity('n2'), 100);
    assert.deepEqual(woken, [[first.workflowId]]);
    // n2 fell silent past the liveness window (a stall, a lost connection); its slot counted for nobody meanwhile.
    await handle.db
      .update(nodes)
      .set({ lastSeenAt: new Date(Date.now() - 2 * LIVENESS_SEC * 1000) })
      .where(eq(nodes.name, 'n2'));
    await waitFor(() => woken.length === 2, { description: 'a wake-up on the check-in after the silence' });
    assert.deepEqual(woken[1], [first.workflowId]);
    // Check-ins within the window are routine: they wake nobody.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(woken.length, 2);
  });

  /** The orchestrator's silent-node watch, with a 3-s liveness period (the least allowed); wake-ups recorded. */
  function watch() {
    const watcher = watchSilentNodes(
      handle.db,
      { NODE_LIVENESS_SEC: 3 },
      (ids) => {
        woken.push([...ids]);
        return Promise.resolve();
      },
      silentLogger,
    );
    stops.push(watcher);
  }

  it('a node going silent wakes the runs queued in its region, to plan again', async () => {
    // n1 checks in once a minute: past 3 s it counts as silent.
    const { first, second } = await fullRegionWithTwoWaiting();
    watch();
    await waitFor(() => woken.length > 0, { description: 'a wake-up after n1 fell silent', timeoutMs: 15_000 });
    assert.deepEqual(woken[0], [first.workflowId, second.workflowId]);
  });

  it('a node silent for long, or one checking in, wakes nobody', async () => {
    await fullRegionWithTwoWaiting();
    // n1 died long ago: its queued runs were woken then (or polled since); a new pass leaves them be.
    await handle.db
      .update(nodes)
      .set({ lastSeenAt: new Date(Date.now() - 60_000) })
      .where(eq(nodes.name, 'n1'));
    await register(identity('live', 'eu-north'), 300);
    const held = await addRun();
    const waiting = await addRun();
    const claimThere = (runId: string) =>
      claimOrQueue(handle.db, {
        runId,
        lane: 'live',
        laneWeight: 1,
        preferredNode: { name: 'live', region: 'eu-north' },
        excludeNodes: [],
        liveSince: new Date(Date.now() - LIVENESS_SEC * 1000),
      });
    assert.equal((await claimThere(held.runId)).kind, 'claimed');
    assert.equal((await claimThere(waiting.runId)).kind, 'queued');
    woken = [];
    watch();
    // Two passes of the watch (one every 3 s).
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    assert.deepEqual(woken, []);
  });
});
