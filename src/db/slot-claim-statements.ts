// The slot queue's hot statements (src/db/slot-claims.ts), each built once and sent by name (named-statement.ts).
// Every claim and every release runs them, so each does the work of several reads and writes in one round trip.
// Their times are clock_timestamp(), the instant under the queue's lock: now() is when the claim's transaction
// began, before it waited for the lock, so a run that got the lock later could be dated before runs served first.
import { type SQL, sql } from 'drizzle-orm';
import type { RunLane } from '../shared/lanes.js';
import { namedStatement, type StatementTarget } from './named-statement.js';
import { serviceOrder } from './slot-service-order.js';

const value = sql.placeholder;

/** A run's queue row, as the statements below return it. */
interface QueueRow extends Record<string, unknown> {
  run_id: string;
  region: string;
  node_name: string | null;
  released_at: Date | null;
}

/** A live node of the region and the claims it can still take (slots plus prefetch), and its idle slots. */
export interface FreeNode {
  name: string;
  free: number;
  idle: number;
}

/**
 * A common table expression `free (name, free, idle)`: the live nodes of `region` with the claims each can still
 * take (`free`: slots plus prefetch, negative when over-committed by an older release) and its idle slots.
 */
function freeNodes(): SQL {
  return sql`free as (
    select n.name, n.max_concurrent_runs + n.prefetch_runs - coalesce(h.held, 0) as free,
      n.max_concurrent_runs - coalesce(h.held, 0) as idle
    from nodes n left join (
      select node_name, count(*)::int as held from run_slot_claims
      where node_name is not null and released_at is null group by node_name
    ) h on h.node_name = n.name
    where n.region = ${value('region')} and n.last_seen_at > ${value('liveSince')}::timestamptz
  )`;
}

/** The `free` rows as one JSON array, most idle slots first, then most free, then by name. */
const FREE_NODES_JSON = sql`coalesce((select json_agg(json_build_object('name', f.name, 'free', f.free, 'idle', f.idle)
  order by f.idle desc, f.free desc, f.name) from free f), '[]'::json)`;

/**
 * The run's queue row, in one statement whatever its state. A first claim inserts it with a start tag after the
 * lane's last one and the virtual clock (start-time fair queueing: no lane starves, each gets slots in proportion
 * to its weight). A released row (a node failed the run) is queued again with its tag, so it keeps its place; a
 * waiting row moves to the requested region, and is marked expedited on its first expedite. Any other row is
 * returned as it is (a held claim stays held).
 */
const queueRowStatement = namedStatement<
  QueueRow,
  { runId: string; lane: RunLane; laneWeight: number; region: string; expedite: boolean }
>(
  'slot_queue_row',
  sql`with existing as (
    select * from run_slot_claims where run_id = ${value('runId')}::uuid
  ), updated as (
    update run_slot_claims c set
      region = ${value('region')}::text,
      node_name = case when c.released_at is null then c.node_name end,
      starts_at = case when c.released_at is null then c.starts_at end,
      released_at = null,
      expedited_at = case
        when ${value('expedite')}::boolean and c.expedited_at is null then clock_timestamp() else c.expedited_at end
    where c.run_id = ${value('runId')}::uuid and (
      c.released_at is not null or (c.node_name is null
        and ((${value('expedite')}::boolean and c.expedited_at is null) or c.region <> ${value('region')}::text)))
    returning c.*
  ), inserted as (
    insert into run_slot_claims (run_id, lane, queue_tag, region, queued_at, expedited_at)
    select ${value('runId')}::uuid, ${value('lane')}::text,
      greatest(
        coalesce(max(queue_tag) filter (where node_name is not null), 0),
        coalesce(max(queue_tag) filter (where lane = ${value('lane')}::text), 0)
      ) + 1 / ${value('laneWeight')}::float8,
      ${value('region')}::text, clock_timestamp(), case when ${value('expedite')}::boolean then clock_timestamp() end
    from run_slot_claims
    having not exists (select 1 from existing)
    returning *
  )
  select run_id, region, node_name, released_at from updated
  union all select run_id, region, node_name, released_at from inserted
  union all select run_id, region, node_name, released_at from existing where not exists (select 1 from updated)`,
);

export async function queueRow(
  client: StatementTarget,
  values: { runId: string; lane: RunLane; laneWeight: number; region: string; expedite: boolean },
): Promise<QueueRow> {
  const { rows } = await queueRowStatement(client, values);
  const [row] = rows;
  if (row === undefined) throw new Error(`could not queue run ${values.runId}`);
  return row;
}

/**
 * In one read: the region's live nodes with their free claims (`freeNodes`), and for the waiting run how many
 * runs claim before it and whose turn it claims in (src/db/slot-service-order.ts; null when it is not waiting).
 */
const slotsAndTurnStatement = namedStatement<
  { nodes: FreeNode[]; position: string | null; turn_run_id: string | null },
  { region: string; liveSince: Date; runId: string }
>(
  'slot_free_and_turn',
  sql`with ${freeNodes()}, ${serviceOrder(value('region'))}
  select ${FREE_NODES_JSON} as nodes, s.position, s.turn_run_id
  from (select 1) as one left join service_order s on s.run_id = ${value('runId')}::uuid`,
);

export async function slotsAndTurn(
  client: StatementTarget,
  values: { region: string; liveSince: Date; runId: string },
): Promise<{ nodes: FreeNode[]; before: number; turnRunId: string }> {
  const { rows } = await slotsAndTurnStatement(client, values);
  const [row] = rows;
  if (row?.position == null || row.turn_run_id === null) {
    throw new Error(`run ${values.runId} is not waiting in region ${values.region}`);
  }
  return { nodes: row.nodes, before: Number(row.position) - 1, turnRunId: row.turn_run_id };
}

/**
 * Puts the run on the node, taking the start tag of the run whose turn it claims in, which takes the run's own
 * (both of one lane; the same run when it claims in its own turn): the lane's turns are then used up in tag order,
 * so the virtual clock and the other lanes' shares stay as they were (without the swap a lane would keep its
 * earliest turn and claim again at once). One statement, so each row is written once.
 */
const takeSlotStatement = namedStatement<Record<string, never>, { runId: string; turnRunId: string; nodeName: string }>(
  'slot_take',
  sql`update run_slot_claims c set
    queue_tag = o.queue_tag,
    node_name = case when c.run_id = ${value('runId')}::uuid then ${value('nodeName')}::text else c.node_name end,
    starts_at = case when c.run_id = ${value('runId')}::uuid then clock_timestamp() else c.starts_at end
  from run_slot_claims o
  where (c.run_id, o.run_id) in (
    (${value('runId')}::uuid, ${value('turnRunId')}::uuid), (${value('turnRunId')}::uuid, ${value('runId')}::uuid))`,
);

export async function takeSlot(
  client: StatementTarget,
  values: { runId: string; turnRunId: string; nodeName: string },
): Promise<void> {
  const { rowCount } = await takeSlotStatement(client, values);
  if (!rowCount) throw new Error(`queue row of run ${values.runId} vanished`);
}

/** Workflow ids of the first `limit` runs waiting in the region, in claim order. */
const nextInLineStatement = namedStatement<{ workflow_id: string }, { region: string; limit: number }>(
  'slot_next_in_line',
  sql`with ${serviceOrder(value('region'))}
  select g.workflow_id from service_order s join grading_runs g on g.id = s.run_id
  order by s.position limit ${value('limit')}::int`,
);

export async function nextInLine(client: StatementTarget, region: string, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const { rows } = await nextInLineStatement(client, { region, limit });
  return rows.map((row) => row.workflow_id);
}

/** Workflow ids of the runs first in line in the region, as many as its live nodes can still take. */
const waitersForFreeStatement = namedStatement<{ workflow_id: string }, { region: string; liveSince: Date }>(
  'slot_waiters_for_free',
  sql`with ${freeNodes()}, ${serviceOrder(value('region'))}
  select g.workflow_id from service_order s join grading_runs g on g.id = s.run_id
  order by s.position limit (select coalesce(sum(greatest(f.free, 0)), 0) from free f)`,
);

export async function waitersForFree(client: StatementTarget, region: string, liveSince: Date): Promise<string[]> {
  const { rows } = await waitersForFreeStatement(client, { region, liveSince });
  return rows.map((row) => row.workflow_id);
}

/** The region's free nodes (`freeNodes`) and how many runs other than `runId` wait there: a spill target's room. */
const roomInRegionStatement = namedStatement<
  { nodes: FreeNode[]; waiters: number },
  { region: string; liveSince: Date; runId: string }
>(
  'slot_room_in_region',
  sql`with ${freeNodes()}
  select ${FREE_NODES_JSON} as nodes, (
    select count(*)::int from run_slot_claims
    where node_name is null and released_at is null and region = ${value('region')}::text
      and run_id <> ${value('runId')}::uuid
  ) as waiters`,
);

export async function roomInRegion(
  client: StatementTarget,
  values: { region: string; liveSince: Date; runId: string },
): Promise<{ nodes: FreeNode[]; waiters: number }> {
  const { rows } = await roomInRegionStatement(client, values);
  return rows[0] ?? { nodes: [], waiters: 0 };
}

/**
 * Gives back the run's reservation over time (the statement releaseReservation sends, src/db/reservations.ts) and
 * marks its claim (or its place in the queue) released, if it still holds one; says what the claim held. One
 * statement, so atomic without a transaction: the release is data-modifying, so it always runs, and the unbook
 * sits in the select list of the one row returned, so it always runs too. It runs because greengrader_unbook is
 * VOLATILE (PostgreSQL's default, and what it is): the planner drops unused outputs of a subquery unless they are.
 */
const releaseHeldStatement = namedStatement<
  { region: string | null; node_name: string | null },
  { runId: string; onNode: string | null }
>(
  'slot_release_held',
  // With a node, only a claim held on that node is released, and only a booking on it: an attempt that outlived
  // its timeout must not free the slot, or the booking, the run has taken since on another node.
  sql`with released as (
    update run_slot_claims set released_at = now()
    where run_id = ${value('runId')}::uuid and released_at is null
      and (${value('onNode')}::text is null or node_name = ${value('onNode')}::text)
    returning region, node_name
  )
  select (
      select count(*) from (
        select greengrader_unbook(r) from greengrader_lock_capacity(${value('runId')}::uuid, array[]::text[]) as r
        where ${value('onNode')}::text is null or r.candidate_id = ${value('onNode')}::text
      ) as unbooked
    ) as unbooked,
    (select region from released) as region, (select node_name from released) as node_name`,
);

export async function releaseHeld(
  target: StatementTarget,
  runId: string,
  onNode: string | null = null,
): Promise<{ region: string; nodeName: string | null } | null> {
  const { rows } = await releaseHeldStatement(target, { runId, onNode });
  const [row] = rows;
  return row?.region == null ? null : { region: row.region, nodeName: row.node_name };
}
