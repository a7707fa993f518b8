ALTER TABLE "capacity_buckets" ADD COLUMN "run_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint

-- A start needs a free slot at each instant of its run (src/shared/capacity-instants.ts): each bucket now lists
-- the runs touching it, so the planner reads the spans of crowded buckets only (as many runs as slots). Data fix:
-- the runs of reservations booked before.
UPDATE capacity_buckets b SET run_ids = coalesce((
  SELECT array_agg(r.run_id ORDER BY r.run_id) FROM run_reservations r
    WHERE r.candidate_id = b.candidate_id AND b.bucket BETWEEN r.first_bucket AND r.last_bucket), '{}');
--> statement-breakpoint

-- As in 0013, and the run leaves the buckets' run lists.
CREATE OR REPLACE FUNCTION greengrader_unbook(p_row run_reservations) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_row.run_id IS NULL THEN
    RETURN;
  END IF;
  UPDATE capacity_buckets b SET reserved = b.reserved - 1,
      busy_ms = greatest(0, b.busy_ms - coalesce(p_row.bucket_busy_ms[b.bucket - p_row.first_bucket + 1], 0)),
      run_ids = array_remove(b.run_ids, p_row.run_id)
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket;
  DELETE FROM capacity_buckets b
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket
      AND b.reserved <= 0;
  DELETE FROM run_reservations r WHERE r.run_id = p_row.run_id;
END $$;
--> statement-breakpoint

-- As in 0013, and the run joins the buckets' run lists.
CREATE OR REPLACE FUNCTION greengrader_book(
  p_run_id uuid, p_candidate_id text, p_start_at timestamptz, p_duration_ms integer,
  p_first bigint, p_busy_ms integer[], p_capacity_ms bigint, p_started_at timestamptz
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fullest record;
  p_last bigint := p_first + cardinality(p_busy_ms) - 1;
BEGIN
  IF cardinality(p_busy_ms) IS NULL OR cardinality(p_busy_ms) = 0 THEN
    RAISE EXCEPTION 'reservation of run % books no bucket', p_run_id USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO run_reservations (run_id, candidate_id, start_at, duration_ms, first_bucket, last_bucket,
      bucket_busy_ms, started_at)
    VALUES (p_run_id, p_candidate_id, p_start_at, p_duration_ms, p_first, p_last, p_busy_ms, p_started_at);
  WITH booked AS (
    INSERT INTO capacity_buckets AS b (candidate_id, bucket, reserved, busy_ms, run_ids)
      SELECT p_candidate_id, p_first + i - 1, 1, p_busy_ms[i], ARRAY[p_run_id] FROM generate_subscripts(p_busy_ms, 1) AS i
      ON CONFLICT ON CONSTRAINT capacity_buckets_candidate_id_bucket_pk
        DO UPDATE SET reserved = b.reserved + 1, busy_ms = b.busy_ms + excluded.busy_ms,
          run_ids = b.run_ids || excluded.run_ids
      RETURNING b.bucket, b.busy_ms
  )
  SELECT k.bucket, k.busy_ms INTO fullest FROM booked k ORDER BY k.busy_ms DESC, k.bucket LIMIT 1;
  IF p_capacity_ms IS NOT NULL AND fullest.busy_ms > p_capacity_ms THEN
    RAISE EXCEPTION 'capacity of % exceeded: bucket % would hold % ms of runs, capacity % ms',
      p_candidate_id, fullest.bucket, fullest.busy_ms, p_capacity_ms
      USING ERRCODE = 'check_violation';
  END IF;
END $$;
--> statement-breakpoint

-- The booked runs that can fill an instant: those touching a bucket, from p_from_bucket on, that as many runs
-- touch as the candidate has slots (p_capacities[i] for p_candidate_ids[i]). Read in the transaction of
-- greengrader_reserve_begin, after its locks.
CREATE FUNCTION greengrader_crowded_spans(p_candidate_ids text[], p_capacities integer[], p_from_bucket bigint)
RETURNS TABLE (candidate_id text, start_ms bigint, duration_ms integer)
LANGUAGE sql STABLE AS $$
  SELECT r.candidate_id, round(extract(epoch FROM r.start_at) * 1000)::bigint, r.duration_ms
    FROM run_reservations r
    WHERE r.run_id IN (
      SELECT unnest(b.run_ids) FROM capacity_buckets b
        JOIN unnest(p_candidate_ids, p_capacities) AS c(id, capacity) ON b.candidate_id = c.id
        WHERE b.bucket >= p_from_bucket AND b.reserved >= c.capacity)
$$;
