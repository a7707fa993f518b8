-- The reservation ledger's steps as functions (src/db/reservations.ts), so a plan costs two statements and no more:
-- greengrader_reserve_begin (lock, free the run's earlier booking, read occupancy), then greengrader_book.
-- Capacity is guarded by per-candidate advisory locks, taken in id order so two transactions never wait in a cycle.

-- Locks the candidates plus the one the run's earlier reservation is on, and returns that reservation (all NULL
-- when none) read after the locks, row-locked so two calls for one run keep apart. A reservation moved meanwhile
-- to a candidate not locked yet (a concurrent call for the same run): lock that one too and read again.
CREATE FUNCTION greengrader_lock_capacity(p_run_id uuid, p_candidate_ids text[]) RETURNS run_reservations
LANGUAGE plpgsql AS $$
DECLARE
  ids text[];
  id text;
  earlier run_reservations;
BEGIN
  SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}') INTO ids
    FROM unnest(p_candidate_ids || ARRAY(SELECT r.candidate_id FROM run_reservations r WHERE r.run_id = p_run_id)) AS c;
  LOOP
    FOREACH id IN ARRAY ids LOOP
      PERFORM pg_advisory_xact_lock(hashtext('greengrader:capacity:' || id));
    END LOOP;
    SELECT * INTO earlier FROM run_reservations r WHERE r.run_id = p_run_id FOR UPDATE;
    IF NOT FOUND OR earlier.candidate_id = ANY (ids) THEN
      RETURN earlier;
    END IF;
    SELECT array_agg(DISTINCT c ORDER BY c) INTO ids FROM unnest(ids || earlier.candidate_id) AS c;
  END LOOP;
END $$;
--> statement-breakpoint

-- Frees a reservation's buckets (rows at 0 go) and the reservation itself; a NULL reservation frees nothing.
CREATE FUNCTION greengrader_unbook(p_row run_reservations) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_row.run_id IS NULL THEN
    RETURN;
  END IF;
  UPDATE capacity_buckets b SET reserved = b.reserved - 1
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket;
  DELETE FROM capacity_buckets b
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket
      AND b.reserved <= 0;
  DELETE FROM run_reservations r WHERE r.run_id = p_row.run_id;
END $$;
--> statement-breakpoint

-- The first half of a reservation: locks, frees the run's earlier booking and returns the candidates' occupancy
-- from p_from_bucket on. The caller's transaction keeps the locks until it books.
CREATE FUNCTION greengrader_reserve_begin(p_run_id uuid, p_candidate_ids text[], p_from_bucket bigint)
RETURNS TABLE (candidate_id text, bucket bigint, reserved integer)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM greengrader_unbook(greengrader_lock_capacity(p_run_id, p_candidate_ids));
  RETURN QUERY SELECT b.candidate_id, b.bucket, b.reserved FROM capacity_buckets b
    WHERE b.candidate_id = ANY (p_candidate_ids) AND b.bucket >= p_from_bucket;
END $$;
--> statement-breakpoint

-- Books buckets p_first..p_last of a candidate for a run in one multi-row upsert. With p_capacity set it is a
-- guard: a bucket that would hold more than that raises check_violation and the caller's transaction books
-- nothing (the locks make it unreachable for planners that read occupancy first; it catches any that did not).
CREATE FUNCTION greengrader_book(
  p_run_id uuid, p_candidate_id text, p_start_at timestamptz, p_duration_ms integer,
  p_first bigint, p_last bigint, p_capacity integer, p_started_at timestamptz
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fullest record;
BEGIN
  INSERT INTO run_reservations (run_id, candidate_id, start_at, duration_ms, first_bucket, last_bucket, started_at)
    VALUES (p_run_id, p_candidate_id, p_start_at, p_duration_ms, p_first, p_last, p_started_at);
  WITH booked AS (
    INSERT INTO capacity_buckets AS b (candidate_id, bucket, reserved)
      SELECT p_candidate_id, s, 1 FROM generate_series(p_first, p_last) AS s
      ON CONFLICT ON CONSTRAINT capacity_buckets_candidate_id_bucket_pk DO UPDATE SET reserved = b.reserved + 1
      RETURNING b.bucket, b.reserved
  )
  SELECT k.bucket, k.reserved INTO fullest FROM booked k ORDER BY k.reserved DESC, k.bucket LIMIT 1;
  IF p_capacity IS NOT NULL AND fullest.reserved > p_capacity THEN
    RAISE EXCEPTION 'capacity of % exceeded: bucket % would hold % reservations, capacity %',
      p_candidate_id, fullest.bucket, fullest.reserved, p_capacity
      USING ERRCODE = 'check_violation';
  END IF;
END $$;
