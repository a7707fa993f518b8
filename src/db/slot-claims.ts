import { and, eq, gt, gte, inArray, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { RunState } from '../shared/run-state.js';
import type { RunLane } from '../shared/lanes.js';
import { SPILL_LEAD_MS } from '../shared/slot-spill.js';
import type { Database } from './client.js';
import { releaseReservation } from './reservations.js';
import { gradingRuns, nodes, runSlotClaims } from './schema.js';
import { serviceOrder, swapTurnSql } from './slot-service-order.js';

/**
 * Every claim and queue change runs under this one transaction-scoped advisory lock: reading free slots and the
 * order of the queue, then claiming, is one atomic step, so two workflows racing never book the same slot.
 */
const SLOT_QUEUE_LOCK = sql`select pg_advisory_xact_lock(hashtext('greengrader:run-slot-claims'))`;

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

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

export type ClaimOutcome =
  { kind: 'claimed'; nodeName: string; wake: string[] } | { kind: 'queued'; position: number; freeSlots: number };

/**
 * Queues the run (first call) and claims a slot for it when one is free on a live node of its region and no run
 * before it in the weighted-fair order is still waiting for one. A run that holds a claim gets the same answer.
 * `wake` lists the workflows next in line when slots remain free after this claim (e.g. a node just joined).
 */
export async function claimOrQueue(db: Database, request: ClaimRequest): Promise<ClaimOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(SLOT_QUEUE_LOCK);
    const row = await queueRow(tx, request);
    if (row.nodeName !== null && row.releasedAt === null) return { kind: 'claimed', nodeName: row.nodeName, wake: [] };

    const region = request.preferredNode.region;
    const free = (await freeSlotsIn(tx, region, request.liveSince)).filter(
      (node) => node.free > 0 && !request.excludeNodes.includes(node.name),
    );
    const freeSlots = free.reduce((sum, node) => sum + node.free, 0);
    const { before, turnRunId } = await waitingAhead(tx, region, row.runId);
    if (before >= freeSlots) {
      const spilled = await spill(tx, request);
      if (spilled !== null) return { kind: 'claimed', nodeName: spilled, wake: [] };
      return { kind: 'queued', position: before + 1, freeSlots };
    }

    // A slot that idles now beats a prefetch place behind a busy one: a node that just joined gets work at once.
    const preferred = (n: { name: string }) => n.name === request.preferredNode.name;
    const node =
      free.find((n) => preferred(n) && n.idle > 0) ?? free.find((n) => n.idle > 0) ?? free.find(preferred) ?? free[0];
    if (!node) throw new Error('free slots counted but no node holds them');
    if (turnRunId !== row.runId) await tx.execute(swapTurnSql(row.runId, turnRunId));
    await tx
      .update(runSlotClaims)
      .set({ nodeName: node.name, startsAt: sql`now()` })
      .where(eq(runSlotClaims.runId, request.runId));
    return { kind: 'claimed', nodeName: node.name, wake: await nextInLine(tx, region, freeSlots - 1) };
  });
}

/**
 * Claims a slot for a run past its spill time on the first node of its spill order that is live, not excluded,
 * has a free slot and sits in a region with more free slots than waiting runs (its own waiters go first). The
 * claim moves to that node's region, so its release wakes the runs waiting there. Null when none has room.
 */
async function spill(tx: Transaction, request: ClaimRequest): Promise<string | null> {
  const targets = (request.spillTo ?? []).filter((name) => !request.excludeNodes.includes(name));
  if (targets.length === 0) return null;
  const regions = await tx.selectDistinct({ region: nodes.region }).from(nodes).where(inArray(nodes.name, targets));
  const room = new Map<string, { region: string; free: number }>();
  for (const { region } of regions) {
    const free = await freeSlotsIn(tx, region, request.liveSince);
    const [waiters] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(runSlotClaims)
      .where(and(waiting(), eq(runSlotClaims.region, region), sql`${runSlotClaims.runId} <> ${request.runId}`));
    const surplus = free.reduce((sum, node) => sum + Math.max(node.free, 0), 0) - (waiters?.count ?? 0);
    if (surplus <= 0) continue;
    for (const node of free) if (node.free > 0) room.set(node.name, { region, free: node.free });
  }
  const target = targets.find((name) => room.has(name));
  if (target === undefined) return null;
  await tx
    .update(runSlotClaims)
    .set({ nodeName: target, startsAt: sql`now()`, region: room.get(target)!.region })
    .where(eq(runSlotClaims.runId, request.runId));
  return target;
}

/**
 * Gives the run's slot (or its place in the queue) back, and its reservation over time with it; idempotent. Needs
 * no lock: a claim racing with it at worst sees one slot fewer. Returns the region of the run's claim (null when
 * it never queued), so the caller can wake the runs next in line there.
 */
export async function releaseClaim(db: Database, runId: string): Promise<string | null> {
  const released = await releaseHeldClaim(db, runId);
  if (released) return released.region;
  const [row] = await db
    .select({ region: runSlotClaims.region })
    .from(runSlotClaims)
    .where(eq(runSlotClaims.runId, runId));
  return row?.region ?? null;
}

/**
 * Gives the run's slot (or its place in the queue) and its reservation back; idempotent. Returns what this call
 * released (the claim's region and node, null for a place in the queue), or null when nothing was held any more:
 * only a release that freed something needs to wake the runs next in line.
 */
export async function releaseHeldClaim(
  db: Database,
  runId: string,
): Promise<{ region: string; nodeName: string | null } | null> {
  await releaseReservation(db, runId);
  const [released] = await db
    .update(runSlotClaims)
    .set({ releasedAt: sql`now()` })
    .where(and(eq(runSlotClaims.runId, runId), isNull(runSlotClaims.releasedAt)))
    .returning({ region: runSlotClaims.region, nodeName: runSlotClaims.nodeName });
  return released ?? null;
}

/** Releases the claims of runs whose row is already final: a claim its run can no longer give back itself. */
export async function releaseClaimsOfFinishedRuns(db: Database, finalStates: readonly string[]): Promise<number> {
  const released = await db
    .update(runSlotClaims)
    .set({ releasedAt: sql`now()` })
    .from(gradingRuns)
    .where(
      and(
        eq(gradingRuns.id, runSlotClaims.runId),
        isNull(runSlotClaims.releasedAt),
        inArray(gradingRuns.state, [...finalStates] as RunState[]),
      ),
    )
    .returning({ runId: runSlotClaims.runId });
  return released.length;
}

/**
 * The workflows first in line for the slots free in the region: to be woken so they claim them. Under the queue's
 * lock: a claim that is queueing a run right now (it saw no free slot before this release committed) commits
 * first, so its run is among those woken instead of sleeping until its fallback poll with a slot free.
 */
export async function waitersForFreeSlots(db: Database, region: string, liveSince: Date): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(SLOT_QUEUE_LOCK);
    const free = await freeSlotsIn(tx, region, liveSince);
    return nextInLine(
      tx,
      region,
      free.reduce((sum, node) => sum + Math.max(node.free, 0), 0),
    );
  });
}

/**
 * The run's queue row, created on its first claim with a start tag after the lane's last one and the virtual
 * clock (start-time fair queueing: no lane starves, each gets slots in proportion to its weight). A run queued
 * again after a node failed it keeps its tag, so it keeps its place. An expedited request marks a waiting run
 * expedited once (its first expedite keeps its place among other expedited runs).
 */
async function queueRow(tx: Transaction, request: ClaimRequest) {
  const region = request.preferredNode.region;
  const [existing] = await tx.select().from(runSlotClaims).where(eq(runSlotClaims.runId, request.runId));
  if (existing) {
    const requeue = existing.releasedAt !== null;
    if (!requeue && existing.nodeName !== null) return existing;
    const expedite = request.expedite === true && existing.expeditedAt === null;
    if (!requeue && !expedite && existing.region === region) return existing;
    const [updated] = await tx
      .update(runSlotClaims)
      .set({
        region,
        ...(requeue ? { nodeName: null, startsAt: null, releasedAt: null } : {}),
        ...(expedite ? { expeditedAt: sql`now()` } : {}),
      })
      .where(eq(runSlotClaims.runId, request.runId))
      .returning();
    if (!updated) throw new Error(`queue row of run ${request.runId} vanished`);
    return updated;
  }
  const [clock] = await tx
    .select({
      virtual: sql<number>`coalesce(max(${runSlotClaims.queueTag}) filter (where ${runSlotClaims.nodeName} is not null), 0)`,
      lane: sql<number>`coalesce(max(${runSlotClaims.queueTag}) filter (where ${runSlotClaims.lane} = ${request.lane}), 0)`,
    })
    .from(runSlotClaims);
  const queueTag = Math.max(clock?.virtual ?? 0, clock?.lane ?? 0) + 1 / request.laneWeight;
  const [inserted] = await tx
    .insert(runSlotClaims)
    .values({
      runId: request.runId,
      lane: request.lane,
      queueTag,
      region,
      ...(request.expedite === true ? { expeditedAt: sql`now()` } : {}),
    })
    .returning();
  if (!inserted) throw new Error(`could not queue run ${request.runId}`);
  return inserted;
}

/**
 * Claims each live node of the region can still take (`free`): its slots plus its prefetch (runs whose containers
 * it prepares while the slots' graders run), and how many of its slots idle (`idle`). Negative when over-committed
 * by an older release.
 */
async function freeSlotsIn(tx: Transaction, region: string, liveSince: Date) {
  const held = tx
    .select({ nodeName: runSlotClaims.nodeName, count: sql<number>`count(*)::int`.as('held') })
    .from(runSlotClaims)
    .where(and(isNotNull(runSlotClaims.nodeName), isNull(runSlotClaims.releasedAt)))
    .groupBy(runSlotClaims.nodeName)
    .as('held');
  const rows = await tx
    .select({
      name: nodes.name,
      free: sql<number>`${nodes.maxConcurrentRuns} + ${nodes.prefetchRuns} - coalesce(${held.count}, 0)`,
      idle: sql<number>`${nodes.maxConcurrentRuns} - coalesce(${held.count}, 0)`,
    })
    .from(nodes)
    .leftJoin(held, eq(held.nodeName, nodes.name))
    .where(and(eq(nodes.region, region), gt(nodes.lastSeenAt, liveSince)))
    .orderBy(sql`3 desc`, sql`2 desc`, nodes.name);
  return rows.map((row) => ({ name: row.name, free: Number(row.free), idle: Number(row.idle) }));
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

/** Workflow ids of the first `limit` runs waiting in the region, in claim order. */
async function nextInLine(tx: Transaction, region: string, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  return waitingWorkflows(tx, eq(runSlotClaims.region, region), limit, region);
}

/**
 * How many runs waiting in the region claim before this waiting run, and whose turn it claims in
 * (src/db/slot-service-order.ts).
 */
async function waitingAhead(
  tx: Transaction,
  region: string,
  runId: string,
): Promise<{ before: number; turnRunId: string }> {
  const { rows } = await tx.execute<{ position: number | string; turn_run_id: string }>(
    sql`with ${serviceOrder(region)} select position, turn_run_id from service_order where run_id = ${runId}`,
  );
  const [row] = rows;
  if (row === undefined) throw new Error(`run ${runId} is not waiting in region ${region}`);
  return { before: Number(row.position) - 1, turnRunId: row.turn_run_id };
}

/**
 * Workflow ids of the first `limit` waiting runs (claim not yet on a node) that also meet `where`, in the order they
 * claim slots (deadline-first within each lane, src/db/slot-service-order.ts); `region` narrows the ranking to it.
 */
async function waitingWorkflows(
  db: Database | Transaction,
  where: SQL | undefined,
  limit: number,
  region?: string,
): Promise<string[]> {
  const { rows } = await db.execute<{ workflow_id: string }>(sql`
    with ${serviceOrder(region)}
    select ${gradingRuns.workflowId} from service_order
    join ${runSlotClaims} on ${runSlotClaims.runId} = service_order.run_id
    join ${gradingRuns} on ${gradingRuns.id} = service_order.run_id
    where ${where ?? sql`true`}
    order by service_order.position
    limit ${limit}`);
  return rows.map((row) => row.workflow_id);
}

function waiting() {
  return and(isNull(runSlotClaims.nodeName), isNull(runSlotClaims.releasedAt));
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
    await tx.execute(SLOT_QUEUE_LOCK);
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
