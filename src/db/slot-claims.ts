import { and, eq, gte, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { RunState } from '../shared/run-state.js';
import type { RunLane } from '../shared/lanes.js';
import { SPILL_LEAD_MS } from '../shared/slot-spill.js';
import type { Database } from './client.js';
import { gradingRuns, nodes, runSlotClaims } from './schema.js';
import { namedStatement } from './named-statement.js';
import {
  nextInLine,
  queueRow,
  releaseHeld,
  roomInRegion,
  slotsAndTurn,
  takeSlot,
  waitersForFree,
} from './slot-claim-statements.js';
import { SLOT_QUEUE_LOCK, underSlotQueueLock } from './slot-queue-lock.js';
import { serviceOrder } from './slot-service-order.js';

export interface ClaimRequest {
  runId: string;
  lane: RunLane;
  /** Relative weight of the run's lane: a lane of weight 4 gets four slots for each one of a lane of weight 1. */
  laneWeight: number;
  /** The planned node; any other live node of its region may take the run when it is full. */
  preferredNode: { name: string; region: string };
  /** Nodes that already failed this run. */
  excludeNodes: readonly string[];
  /** Nodes that checked in since then are live. */
  liveSince: Date;
  /** A person is waiting for this run (the expedite signal): it goes to the head of the queue. */
  expedite?: boolean;
  /**
   * The run's deadline has come (src/shared/slot-spill.ts): with no slot for it in its region, it takes a free
   * slot on the first of these nodes (its plan's spill order) whose region has more free slots than waiting runs.
   */
  spillTo?: readonly string[];
}

/** A claim says its node's region too (a spilled claim moves to another region than the one planned). */
export type ClaimOutcome =
  | { kind: 'claimed'; nodeName: string; region: string; wake: string[] }
  | { kind: 'queued'; position: number; freeSlots: number };

/**
 * Queues the run (first call) and claims a slot for it when one is free on a live node of its region and no run
 * before it in the weighted-fair order is still waiting for one. A run that holds a claim gets the same answer.
 * `wake` lists the workflows next in line when slots remain free after this claim (e.g. a node just joined).
 * Round trips: `begin` with the lock, the queue row, the free slots with the run's place, then the claim and
 * `commit` (and the next in line, when slots remain); each statement is prepared once per connection.
 */
export async function claimOrQueue(db: Database, request: ClaimRequest): Promise<ClaimOutcome> {
  return underSlotQueueLock(db.$client, async (client) => {
    const region = request.preferredNode.region;
    const row = await queueRow(client, {
      runId: request.runId,
      lane: request.lane,
      laneWeight: request.laneWeight,
      region,
      expedite: request.expedite === true,
    });
    if (row.node_name !== null && row.released_at === null) {
      return { kind: 'claimed', nodeName: row.node_name, region: row.region, wake: [] };
    }

    const {
      nodes: inRegion,
      before,
      turnRunId,
    } = await slotsAndTurn(client, {
      region,
      liveSince: request.liveSince,
      runId: request.runId,
    });
    const free = inRegion.filter((node) => node.free > 0 && !request.excludeNodes.includes(node.name));
    const freeSlots = free.reduce((sum, node) => sum + node.free, 0);
    if (before >= freeSlots) {
      const spilled = await spill(client, request);
      if (spilled !== null) return { kind: 'claimed', ...spilled, wake: [] };
      return { kind: 'queued', position: before + 1, freeSlots };
    }
    // Places are owed in line: runs ahead, woken for the same free places, get the idle slots first. A node starts
    // its prefetched runs in the order their claims reach it, so a run that took a prefetch place before the runs
    // ahead of it claimed would start before them. It waits instead, and the last of them to claim wakes it.
    const idleSlots = free.reduce((sum, node) => sum + Math.max(node.idle, 0), 0);
    if (before > 0 && before >= idleSlots) return { kind: 'queued', position: before + 1, freeSlots };

    // A slot that idles now beats a prefetch place behind a busy one: a node that just joined gets work at once.
    const preferred = (n: { name: string }) => n.name === request.preferredNode.name;
    const node =
      free.find((n) => preferred(n) && n.idle > 0) ?? free.find((n) => n.idle > 0) ?? free.find(preferred) ?? free[0];
    if (!node) throw new Error('free slots counted but no node holds them');
    await takeSlot(client, { runId: request.runId, turnRunId, nodeName: node.name });
    return { kind: 'claimed', nodeName: node.name, region, wake: await nextInLine(client, region, freeSlots - 1) };
  });
}

/**
 * Claims a slot for a run past its spill time on the first node of its spill order that is live, not excluded,
 * has a free slot and sits in a region with more free slots than waiting runs (its own waiters go first). The
 * claim moves to that node's region, so its release wakes the runs waiting there. Null when none has room.
 */
async function spill(
  client: pg.PoolClient,
  request: ClaimRequest,
): Promise<{ nodeName: string; region: string } | null> {
  const targets = (request.spillTo ?? []).filter((name) => !request.excludeNodes.includes(name));
  if (targets.length === 0) return null;
  const { rows: regions } = await regionsOfStatement(client, { names: targets });
  const room = new Map<string, string>();
  for (const { region } of regions) {
    const { nodes: inRegion, waiters } = await roomInRegion(client, {
      region,
      liveSince: request.liveSince,
      runId: request.runId,
    });
    const surplus = inRegion.reduce((sum, node) => sum + Math.max(node.free, 0), 0) - waiters;
    if (surplus <= 0) continue;
    for (const node of inRegion) if (node.free > 0) room.set(node.name, region);
  }
  const nodeName = targets.find((name) => room.has(name));
  const region = nodeName === undefined ? undefined : room.get(nodeName);
  if (nodeName === undefined || region === undefined) return null;
  await spillClaimStatement(client, { runId: request.runId, nodeName, region });
  return { nodeName, region };
}

/** The distinct regions of the named nodes. */
const regionsOfStatement = namedStatement<{ region: string }, { names: string[] }>(
  'slot_spill_regions',
  sql`select distinct region from nodes where name = any(${sql.placeholder('names')}::text[])`,
);

/** Puts the run on a node of another region; its claim moves there. */
const spillClaimStatement = namedStatement<Record<string, never>, { runId: string; nodeName: string; region: string }>(
  'slot_spill_claim',
  sql`update run_slot_claims set node_name = ${sql.placeholder('nodeName')}::text, starts_at = clock_timestamp(),
    region = ${sql.placeholder('region')}::text
  where run_id = ${sql.placeholder('runId')}::uuid`,
);

/**
 * Gives the run's slot (or its place in the queue) and its reservation back; idempotent. Returns what this call
 * released (the claim's region and node, null for a place in the queue), or null when nothing was held any more:
 * only a release that freed something needs to wake the runs next in line. With `onNode`, only a slot held on
 * that node and a booking on it (a run moving off a node that failed it).
 */
export async function releaseHeldClaim(
  db: Database,
  runId: string,
  onNode?: string,
): Promise<{ region: string; nodeName: string | null } | null> {
  return releaseHeld(db.$client, runId, onNode ?? null);
}

/**
 * Runs whose row is already final but whose claim is still held: a claim its run can no longer give back itself.
 * Each is released through the waking release (slot-release.ts), so the run next in line is told at once.
 */
export async function finishedRunsHoldingClaims(
  db: Database,
  finalStates: readonly string[],
  limit: number,
): Promise<string[]> {
  const rows = await db
    .select({ runId: runSlotClaims.runId })
    .from(runSlotClaims)
    .innerJoin(gradingRuns, eq(gradingRuns.id, runSlotClaims.runId))
    .where(and(isNull(runSlotClaims.releasedAt), inArray(gradingRuns.state, [...finalStates] as RunState[])))
    .limit(limit);
  return rows.map((row) => row.runId);
}

/**
 * The workflows first in line for the slots free in the region: to be woken so they claim them. Under the queue's
 * lock: a claim that is queueing a run right now (it saw no free slot before this release committed) commits
 * first, so its run is among those woken instead of sleeping until its fallback poll with a slot free.
 */
export async function waitersForFreeSlots(db: Database, region: string, liveSince: Date): Promise<string[]> {
  return underSlotQueueLock(db.$client, (client) => waitersForFree(client, region, liveSince));
}

/**
 * Workflows of runs waiting in another region past their spill time whose plan may spill to `nodeName`, in claim
 * order: when a slot there frees and nobody there waits, they are woken to take it.
 */
export function spillersFor(db: Database, nodeName: string, limit: number): Promise<string[]> {
  return waitingWorkflows(
    db,
    and(
      sql`${gradingRuns.deadlineAt} <= now() + ${SPILL_LEAD_MS} * interval '1 millisecond'`,
      sql`${gradingRuns.plan} -> 'spillOrder' ? ${nodeName}`,
    ),
    limit,
  );
}

/**
 * Workflow ids of the first `limit` waiting runs (claim not yet on a node) that also meet `where`, in the order they
 * claim slots (deadline-first within each lane, src/db/slot-service-order.ts).
 */
async function waitingWorkflows(db: Database, where: SQL | undefined, limit: number): Promise<string[]> {
  const { rows } = await db.execute<{ workflow_id: string }>(sql`
    with ${serviceOrder()}
    select ${gradingRuns.workflowId} from service_order
    join ${runSlotClaims} on ${runSlotClaims.runId} = service_order.run_id
    join ${gradingRuns} on ${gradingRuns.id} = service_order.run_id
    where ${where ?? sql`true`}
    order by service_order.position
    limit ${limit}`);
  return rows.map((row) => row.workflow_id);
}

/**
 * Records a claim taken outside the queue (runs planned before the queue existed, which claim their node
 * directly), so the node's occupancy still counts them.
 */
export async function recordDirectClaim(
  db: Database,
  claim: { runId: string; lane: RunLane; nodeName: string; region: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw(SLOT_QUEUE_LOCK));
    await tx
      .insert(runSlotClaims)
      .values({ ...claim, queueTag: 0, startsAt: sql`now()` })
      .onConflictDoUpdate({
        target: runSlotClaims.runId,
        set: { nodeName: claim.nodeName, region: claim.region, startsAt: sql`now()`, releasedAt: null },
      });
  });
}

/**
 * Workflow ids of the runs queued (first in line first, at most `limit`) in the regions of nodes that went silent
 * in [silentFrom, silentTo): checked-in last then, so taken for dead since. A queued run learns its planned node is
 * gone only when it claims again, and a dead node frees no slot that would wake it.
 */
export function runsQueuedBehindSilentNodes(
  db: Database,
  silentFrom: Date,
  silentTo: Date,
  limit: number,
): Promise<string[]> {
  const silentRegions = db
    .select({ region: nodes.region })
    .from(nodes)
    .where(and(gte(nodes.lastSeenAt, silentFrom), lt(nodes.lastSeenAt, silentTo)));
  return waitingWorkflows(db, inArray(runSlotClaims.region, silentRegions), limit);
}
