-- A started run holds its slot until it is released (issue 12; src/shared/started-hold.ts). Its booking covers its
-- estimate from its real start, and about half of all runs outlast their estimate (a median): once such a booking
-- ended, a plan saw the run's slot free while it still ran, planned a run into it "now", and that run waited in the
-- slot queue past its deadline. Before a plan reads a candidate's books, every started run there whose booking
-- ended by the plan's instant is booked again up to that instant plus a short hold, and again at a later plan while
-- it still runs. No table changes: a function the plan's first round trip calls before greengrader_reserve_begin.

-- Takes the plan's locks (greengrader_lock_capacity, as greengrader_reserve_begin does after it: the same locks in
-- the same order, held by this transaction already), then books each started run on p_candidate_ids whose booking
-- ends by p_now_ms again from its start to p_now_ms + p_hold_ms, buckets and spans as greengrader_book counts them
-- (busyByBucket in src/shared/capacity-buckets.ts), with no capacity check (the run is running).
CREATE FUNCTION greengrader_hold_started(
  p_run_id uuid, p_candidate_ids text[], p_now_ms bigint, p_hold_ms integer
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r run_reservations;
  v_start bigint;
  v_end bigint;
  v_first bigint;
  v_last bigint;
BEGIN
  PERFORM greengrader_lock_capacity(p_run_id, p_candidate_ids);
  -- A booking that ended by now lies in buckets up to now's: the candidate index's range, not the whole book.
  FOR r IN SELECT * FROM run_reservations x
      WHERE x.candidate_id = ANY (p_candidate_ids) AND x.last_bucket <= p_now_ms / 300000
        AND x.started_at IS NOT NULL
        AND round(extract(epoch FROM x.start_at) * 1000)::bigint + greatest(x.duration_ms, 1) <= p_now_ms
      ORDER BY x.run_id
      FOR UPDATE
  LOOP
    v_start := round(extract(epoch FROM r.start_at) * 1000)::bigint;
    v_end := p_now_ms + p_hold_ms;
    v_first := floor(v_start / 300000.0)::bigint;
    v_last := floor((v_end - 1) / 300000.0)::bigint;
    PERFORM greengrader_unbook(r);
    PERFORM greengrader_book(r.run_id, r.candidate_id, r.start_at, (v_end - v_start)::integer, v_first,
      ARRAY(SELECT (least(v_end, (b + 1) * 300000) - greatest(v_start, b * 300000))::integer
        FROM generate_series(v_first, v_last) AS b ORDER BY b),
      NULL::bigint, r.started_at);
  END LOOP;
END $$;
