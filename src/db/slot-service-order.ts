import { type Placeholder, type SQL, sql } from 'drizzle-orm';

/**
 * A common table expression `service_order (run_id, position, turn_run_id)`: the runs waiting for a slot (in
 * `region`, or in every region), position 1 first, in the order they claim free slots. Deadline-first service
 * (src/shared/deadline-first.ts): each lane keeps its turns (expedited runs first, in the order they were
 * expedited; then the smallest start tag, the lanes' weighted-fair order; ties by arrival, then run id), and its
 * waiting runs take those turns earliest deadline first (runs without one last, ties in the turns' order);
 * `turn_run_id` is the run whose start tag the turn is. Positions compare across regions too (the same order in
 * each), for the spillers' list. Ranked in the database: a JS Date would drop the microseconds of the timestamps.
 */
export function serviceOrder(region?: string | Placeholder): SQL {
  const inRegion = region === undefined ? sql`` : sql`and c.region = ${region}`;
  return sql`service_order as (
    with waiting as (
      select c.run_id, c.region, c.lane, c.queue_tag, c.queued_at, c.expedited_at, g.deadline_at
      from run_slot_claims c join grading_runs g on g.id = c.run_id
      where c.node_name is null and c.released_at is null ${inRegion}
    ), ranked as (
      select w.*,
        row_number() over (
          partition by region, lane, expedited_at is null
          order by case when expedited_at is null then deadline_at end, expedited_at, queue_tag, queued_at, run_id
        ) as pick,
        row_number() over (
          partition by region, lane, expedited_at is null order by expedited_at, queue_tag, queued_at, run_id
        ) as turn
      from waiting w
    )
    select run.run_id, slot.run_id as turn_run_id, row_number() over (
        order by slot.expedited_at is null, slot.expedited_at, slot.queue_tag, slot.queued_at, slot.run_id
      ) as position
    from ranked run join ranked slot
      on slot.region = run.region and slot.lane = run.lane
        and (slot.expedited_at is null) = (run.expedited_at is null) and slot.turn = run.pick
  )`;
}
