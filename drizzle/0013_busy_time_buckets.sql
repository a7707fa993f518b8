ALTER TABLE "capacity_buckets" ADD COLUMN "busy_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "run_reservations" ADD COLUMN "bucket_busy_ms" integer[] DEFAULT '{}'::integer[] NOT NULL;--> statement-breakpoint
ALTER TABLE "capacity_buckets" ADD CONSTRAINT "capacity_buckets_busy_ms_check" CHECK ("capacity_buckets"."busy_ms" >= 0);--> statement-breakpoint

-- Capacity is now booked busy time per bucket (src/shared/capacity-buckets.ts), not whole buckets per run. Data
-- fix for reservations booked before: each one's busy ms per bucket (5-min buckets, a run counted ≥ 1 ms long, as
-- busyIn computes it), then each bucket's total.
UPDATE run_reservations r SET bucket_busy_ms = ARRAY(
  SELECT greatest(0,
      least((s + 1) * 300000, floor(extract(epoch FROM r.start_at) * 1000) + greatest(r.duration_ms, 1))
      - greatest(s * 300000, floor(extract(epoch FROM r.start_at) * 1000)))::integer
    FROM generate_series(r.first_bucket, r.last_bucket) AS s ORDER BY s);
--> statement-breakpoint
UPDATE capacity_buckets b SET busy_ms = coalesce((
  SELECT sum(r.bucket_busy_ms[b.bucket - r.first_bucket + 1]) FROM run_reservations r
    WHERE r.candidate_id = b.candidate_id AND b.bucket BETWEEN r.first_bucket AND r.last_bucket), 0);
--> statement-breakpoint

-- Frees a reservation's buckets (its count and its busy time; rows with no reservation left go) and the
-- reservation itself; a NULL reservation frees nothing.
CREATE OR REPLACE FUNCTION greengrader_unbook(p_row run_reservations) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_row.run_id IS NULL THEN
    RETURN;
  END IF;
  UPDATE capacity_buckets b SET reserved = b.reserved - 1,
      busy_ms = greatest(0, b.busy_ms - coalesce(p_row.bucket_busy_ms[b.bucket - p_row.first_bucket + 1], 0))
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket;
  DELETE FROM capacity_buckets b
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket
      AND b.reserved <= 0;
  DELETE FROM run_reservations r WHERE r.run_id = p_row.run_id;
END $$;
--> statement-breakpoint

-- As in 0012, but occupancy is each bucket's booked busy time (ms), what the planner checks room against.
DROP FUNCTION greengrader_reserve_begin(uuid, text[], bigint);
--> statement-breakpoint
CREATE FUNCTION greengrader_reserve_begin(p_run_id uuid, p_candidate_ids text[], p_from_bucket bigint)
RETURNS TABLE (candidate_id text, bucket bigint, busy_ms bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM greengrader_unbook(greengrader_lock_capacity(p_run_id, p_candidate_ids));
  RETURN QUERY SELECT b.candidate_id, b.bucket, b.busy_ms FROM capacity_buckets b
    WHERE b.candidate_id = ANY (p_candidate_ids) AND b.bucket >= p_from_bucket;
END $$;
--> statement-breakpoint

-- Books a run's busy time (p_busy_ms[i] into bucket p_first + i - 1) on a candidate in one multi-row upsert. With
-- p_capacity_ms set (runs at once × bucket length) it is a guard: a bucket that would hold more busy time raises
-- check_violation and the caller's transaction books nothing.
DROP FUNCTION greengrader_book(uuid, text, timestamptz, integer, bigint, bigint, integer, timestamptz);
--> statement-breakpoint
CREATE FUNCTION greengrader_book(
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
    INSERT INTO capacity_buckets AS b (candidate_id, bucket, reserved, busy_ms)
      SELECT p_candidate_id, p_first + i - 1, 1, p_busy_ms[i] FROM generate_subscripts(p_busy_ms, 1) AS i
      ON CONFLICT ON CONSTRAINT capacity_buckets_candidate_id_bucket_pk
        DO UPDATE SET reserved = b.reserved + 1, busy_ms = b.busy_ms + excluded.busy_ms
      RETURNING b.bucket, b.busy_ms
  )
  SELECT k.bucket, k.busy_ms INTO fullest FROM booked k ORDER BY k.busy_ms DESC, k.bucket LIMIT 1;
  IF p_capacity_ms IS NOT NULL AND fullest.busy_ms > p_capacity_ms THEN
    RAISE EXCEPTION 'capacity of % exceeded: bucket % would hold % ms of runs, capacity % ms',
      p_candidate_id, fullest.bucket, fullest.busy_ms, p_capacity_ms
      USING ERRCODE = 'check_violation';
  END IF;
END $$;
