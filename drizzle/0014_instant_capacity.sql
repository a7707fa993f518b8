CREATE TABLE "candidate_capacities" (
	"candidate_id" text PRIMARY KEY NOT NULL,
	"slots" integer NOT NULL,
	CONSTRAINT "candidate_capacities_slots_check" CHECK ("candidate_capacities"."slots" >= 0)
);
--> statement-breakpoint
ALTER TABLE "capacity_buckets" ADD COLUMN "run_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "capacity_buckets" ADD COLUMN "full_ms" bigint[];--> statement-breakpoint

-- A start needs a free slot at each instant of its run (src/shared/capacity-instants.ts). Each bucket lists the
-- runs touching it and keeps the periods in which they hold every slot (full_ms), recounted from those runs
-- whenever one is booked or freed there, so a plan reads a few periods per bucket and no booked run.
-- Data fix: the runs of reservations booked before; their full periods follow once a plan gives the capacities.
UPDATE capacity_buckets b SET run_ids = coalesce((
  SELECT array_agg(r.run_id ORDER BY r.run_id) FROM run_reservations r
    WHERE r.candidate_id = b.candidate_id AND b.bucket BETWEEN r.first_bucket AND r.last_bucket), '{}');
--> statement-breakpoint

-- The full periods inside bucket p_bucket of runs p_run_ids on a candidate with p_slots slots, cut to the bucket,
-- as epoch-ms pairs in time order; NULL when none. The same rule as fullPeriodsInBucket (capacity-instants.ts):
-- half-open spans, a run counted ≥ 1 ms long, nothing to count with fewer runs than slots (5-min buckets).
-- PL/pgSQL, as the functions below: it keeps its plans for the session, where a SQL function is planned at each call.
CREATE FUNCTION greengrader_bucket_full(p_run_ids uuid[], p_bucket bigint, p_slots integer) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_slots < 1 OR cardinality(p_run_ids) < p_slots THEN
    RETURN NULL;
  END IF;
  RETURN (WITH spans AS (
    SELECT greatest(x.s, p_bucket * 300000) AS s, least(x.s + greatest(r.duration_ms, 1), (p_bucket + 1) * 300000) AS e
      FROM run_reservations r
      CROSS JOIN LATERAL (SELECT round(extract(epoch FROM r.start_at) * 1000)::bigint AS s) x
      WHERE r.run_id = ANY (p_run_ids)
  ), steps AS (
    -- The runs at once from each instant on: ends and starts at one instant count together (half-open spans).
    SELECT ev.at_ms, sum(sum(ev.d)) OVER (ORDER BY ev.at_ms) AS running
      FROM (SELECT s AS at_ms, 1 AS d FROM spans WHERE e > s UNION ALL SELECT e, -1 FROM spans WHERE e > s) ev
      GROUP BY ev.at_ms
  ), marked AS (
    SELECT at_ms, lead(at_ms) OVER (ORDER BY at_ms) AS until_ms, running >= p_slots AS is_full FROM steps
  ), islands AS (
    -- Consecutive full steps share the count of not-full steps before them: one period each.
    SELECT at_ms, until_ms, is_full, count(*) FILTER (WHERE NOT is_full) OVER (ORDER BY at_ms) AS island FROM marked
  ), periods AS (
    SELECT min(at_ms) AS from_ms, max(until_ms) AS to_ms FROM islands WHERE is_full GROUP BY island
  )
  SELECT array_agg(u.v ORDER BY p.from_ms, u.k)
    FROM periods p CROSS JOIN LATERAL unnest(ARRAY[p.from_ms, p.to_ms]) WITH ORDINALITY AS u(v, k));
END $$;
--> statement-breakpoint

-- Counts the full periods of the candidate's buckets p_first..p_last again (after a run was booked or freed there).
CREATE FUNCTION greengrader_recount_full(p_candidate_id text, p_first bigint, p_last bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE capacity_buckets b SET full_ms = greengrader_bucket_full(b.run_ids, b.bucket, c.slots)
    FROM candidate_capacities c
    WHERE c.candidate_id = p_candidate_id AND b.candidate_id = p_candidate_id AND b.bucket BETWEEN p_first AND p_last;
END $$;
--> statement-breakpoint

-- Records the runs at once each candidate takes (p_slots[i] for p_candidate_ids[i]); a candidate whose capacity
-- changed has every full period counted again. Called under the candidates' advisory locks.
CREATE FUNCTION greengrader_set_slots(p_candidate_ids text[], p_slots integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Read first: nearly every plan finds the capacities unchanged, and then writes (and row-locks) nothing.
  IF NOT EXISTS (
    SELECT 1 FROM unnest(p_candidate_ids, p_slots) AS g(id, slots)
      LEFT JOIN candidate_capacities c ON c.candidate_id = g.id
      WHERE c.slots IS DISTINCT FROM g.slots
  ) THEN
    RETURN;
  END IF;
  WITH changed AS (
    INSERT INTO candidate_capacities AS c (candidate_id, slots)
      SELECT g.id, g.slots FROM unnest(p_candidate_ids, p_slots) AS g(id, slots)
      ON CONFLICT (candidate_id) DO UPDATE SET slots = excluded.slots WHERE c.slots <> excluded.slots
      RETURNING c.candidate_id, c.slots
  )
  UPDATE capacity_buckets b SET full_ms = greengrader_bucket_full(b.run_ids, b.bucket, k.slots)
    FROM changed k WHERE b.candidate_id = k.candidate_id;
END $$;
--> statement-breakpoint

-- As in 0013, and the run leaves the buckets' run lists and their full periods are counted again.
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
  PERFORM greengrader_recount_full(p_row.candidate_id, p_row.first_bucket, p_row.last_bucket);
  DELETE FROM run_reservations r WHERE r.run_id = p_row.run_id;
END $$;
--> statement-breakpoint

-- As in 0013, and the run joins the buckets' run lists and their full periods are counted again.
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
  PERFORM greengrader_recount_full(p_candidate_id, p_first, p_last);
END $$;
--> statement-breakpoint

-- The planner's read: each candidate's buckets from p_from_bucket on, as one text per candidate,
-- "bucket:busy_ms[:full start,end,…];…". One row per candidate, not per bucket: at 10,000 queued (~2,300 buckets)
-- decoding a row per bucket was most of a plan's read; the client splits one text far faster.
CREATE FUNCTION greengrader_occupancy(p_candidate_ids text[], p_from_bucket bigint)
RETURNS TABLE (candidate_id text, buckets text) LANGUAGE sql STABLE AS $$
  SELECT b.candidate_id,
    string_agg(b.bucket::text || ':' || b.busy_ms::text || coalesce(':' || array_to_string(b.full_ms, ','), ''), ';')
  FROM capacity_buckets b
  WHERE b.candidate_id = ANY (p_candidate_ids) AND b.bucket >= p_from_bucket
  GROUP BY b.candidate_id
$$;
--> statement-breakpoint

-- As in 0013, and it first records the capacities the plan counts with (p_limited, p_slots: candidates with a
-- capacity), then returns greengrader_occupancy: busy time and full periods of each bucket.
DROP FUNCTION greengrader_reserve_begin(uuid, text[], bigint);
--> statement-breakpoint
CREATE FUNCTION greengrader_reserve_begin(
  p_run_id uuid, p_candidate_ids text[], p_from_bucket bigint, p_limited text[], p_slots integer[]
) RETURNS TABLE (candidate_id text, buckets text)
LANGUAGE plpgsql AS $$
DECLARE
  earlier run_reservations;
BEGIN
  earlier := greengrader_lock_capacity(p_run_id, p_candidate_ids);
  PERFORM greengrader_set_slots(p_limited, p_slots);
  PERFORM greengrader_unbook(earlier);
  RETURN QUERY SELECT * FROM greengrader_occupancy(p_candidate_ids, p_from_bucket);
END $$;
