-- Cheaper instant check (issue 12: planning ≤ 5 ms at 10,000 queued). Each bucket now keeps its runs' spans cut to
-- it (`spans`, ms from the bucket's start, in run_ids order), so a booking or release counts the bucket's full
-- periods from its own row, in the same upsert or update that books or frees it, instead of reading every run of
-- the bucket from run_reservations in a second update. Full periods are kept as ms from the bucket's start too,
-- and the planner's read writes buckets relative to the first one read: a shorter text to build, send and split.
-- Data fix: full_ms is counted again below from the spans, which are filled from the reservations.
ALTER TABLE "capacity_buckets" ALTER COLUMN "full_ms" SET DATA TYPE integer[] USING NULL;--> statement-breakpoint
ALTER TABLE "capacity_buckets" ADD COLUMN "spans" integer[] DEFAULT '{}'::integer[] NOT NULL;--> statement-breakpoint

-- The periods in which at least p_slots of the spans (pairs [start, end, …], half-open, ms from the bucket's
-- start) run at once, as pairs in time order; NULL when none. The sweep of fullPeriods (capacity-instants.ts):
-- ends before starts at one instant, a start at the instant a period ended continues it.
CREATE FUNCTION greengrader_full_in(p_spans integer[], p_slots integer) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  starts integer[];
  ends integer[];
  n integer;
  s integer := 1;
  e integer := 1;
  running integer := 0;
  since integer;
  periods integer[] := '{}';
BEGIN
  IF p_slots IS NULL OR p_slots < 1 OR coalesce(cardinality(p_spans), 0) / 2 < p_slots THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(sp.s ORDER BY sp.s), array_agg(sp.e ORDER BY sp.e) INTO starts, ends
    FROM (SELECT p_spans[2 * k - 1] AS s, p_spans[2 * k] AS e FROM generate_series(1, cardinality(p_spans) / 2) AS k) sp
    WHERE sp.e > sp.s;
  n := coalesce(cardinality(starts), 0);
  IF n < p_slots THEN
    RETURN NULL;
  END IF;
  WHILE s <= n LOOP
    IF ends[e] <= starts[s] THEN
      running := running - 1;
      IF since IS NOT NULL AND running < p_slots THEN
        IF ends[e] > since THEN
          periods := periods || since || ends[e];
        END IF;
        since := NULL;
      END IF;
      e := e + 1;
    ELSE
      running := running + 1;
      IF since IS NULL AND running >= p_slots THEN
        IF cardinality(periods) > 0 AND periods[cardinality(periods)] = starts[s] THEN
          since := periods[cardinality(periods) - 1];
          periods := periods[1:cardinality(periods) - 2];
        ELSE
          since := starts[s];
        END IF;
      END IF;
      s := s + 1;
    END IF;
  END LOOP;
  IF since IS NOT NULL THEN
    periods := periods || since || ends[n - p_slots + 1];
  END IF;
  RETURN CASE WHEN cardinality(periods) = 0 THEN NULL ELSE periods END;
END $$;
--> statement-breakpoint

-- A bucket's spans without the run's (the pair at the run's place in run_ids); unchanged when it is not there.
CREATE FUNCTION greengrader_spans_without(p_run_ids uuid[], p_spans integer[], p_run_id uuid) RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN x.pos IS NULL THEN p_spans ELSE p_spans[1:2 * x.pos - 2] || p_spans[2 * x.pos + 1:] END
    FROM (SELECT array_position(p_run_ids, p_run_id) AS pos) x
$$;
--> statement-breakpoint

-- Data fix: each bucket's spans from its runs' reservations (a run without one gets an empty span, so the pairs
-- stay in run_ids order), then its full periods against the candidate's recorded capacity.
UPDATE capacity_buckets b SET spans = coalesce((
  SELECT array_agg(v.ms ORDER BY u.pos, v.k)
    FROM unnest(b.run_ids) WITH ORDINALITY AS u(id, pos)
    LEFT JOIN run_reservations r ON r.run_id = u.id
    CROSS JOIN LATERAL (SELECT round(extract(epoch FROM r.start_at) * 1000)::bigint AS s) x
    CROSS JOIN LATERAL unnest(ARRAY[
      coalesce(greatest(x.s, b.bucket * 300000) - b.bucket * 300000, 0),
      coalesce(least(x.s + greatest(r.duration_ms, 1), (b.bucket + 1) * 300000) - b.bucket * 300000, 0)
    ]::integer[]) WITH ORDINALITY AS v(ms, k)), '{}');
--> statement-breakpoint
UPDATE capacity_buckets b SET full_ms = greengrader_full_in(b.spans, c.slots)
  FROM candidate_capacities c WHERE c.candidate_id = b.candidate_id;
--> statement-breakpoint

-- As in 0014; a changed capacity counts the candidate's full periods again from the buckets' spans.
CREATE OR REPLACE FUNCTION greengrader_set_slots(p_candidate_ids text[], p_slots integer[]) RETURNS void
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
  UPDATE capacity_buckets b SET full_ms = greengrader_full_in(b.spans, k.slots)
    FROM changed k WHERE b.candidate_id = k.candidate_id;
END $$;
--> statement-breakpoint

-- As in 0014, each bucket written once: a bucket the run leaves empty is deleted, the others lose its busy time
-- and span and count their full periods again in the same update.
CREATE OR REPLACE FUNCTION greengrader_unbook(p_row run_reservations) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_slots integer;
BEGIN
  IF p_row.run_id IS NULL THEN
    RETURN;
  END IF;
  SELECT c.slots INTO v_slots FROM candidate_capacities c WHERE c.candidate_id = p_row.candidate_id;
  DELETE FROM capacity_buckets b
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket
      AND b.reserved <= 1;
  UPDATE capacity_buckets b SET reserved = b.reserved - 1,
      busy_ms = greatest(0, b.busy_ms - coalesce(p_row.bucket_busy_ms[b.bucket - p_row.first_bucket + 1], 0)),
      run_ids = array_remove(b.run_ids, p_row.run_id),
      spans = greengrader_spans_without(b.run_ids, b.spans, p_row.run_id),
      full_ms = greengrader_full_in(greengrader_spans_without(b.run_ids, b.spans, p_row.run_id), v_slots)
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket;
  DELETE FROM run_reservations r WHERE r.run_id = p_row.run_id;
END $$;
--> statement-breakpoint

-- As in 0014, in one upsert: the run joins each bucket's run list and spans, and the bucket's full periods are
-- counted again from them in the same row write.
CREATE OR REPLACE FUNCTION greengrader_book(
  p_run_id uuid, p_candidate_id text, p_start_at timestamptz, p_duration_ms integer,
  p_first bigint, p_busy_ms integer[], p_capacity_ms bigint, p_started_at timestamptz
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  fullest record;
  p_last bigint := p_first + cardinality(p_busy_ms) - 1;
  v_slots integer;
  v_start bigint := round(extract(epoch FROM p_start_at) * 1000)::bigint;
  v_end bigint := round(extract(epoch FROM p_start_at) * 1000)::bigint + greatest(p_duration_ms, 1);
BEGIN
  IF cardinality(p_busy_ms) IS NULL OR cardinality(p_busy_ms) = 0 THEN
    RAISE EXCEPTION 'reservation of run % books no bucket', p_run_id USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT c.slots INTO v_slots FROM candidate_capacities c WHERE c.candidate_id = p_candidate_id;
  INSERT INTO run_reservations (run_id, candidate_id, start_at, duration_ms, first_bucket, last_bucket,
      bucket_busy_ms, started_at)
    VALUES (p_run_id, p_candidate_id, p_start_at, p_duration_ms, p_first, p_last, p_busy_ms, p_started_at);
  WITH booked AS (
    INSERT INTO capacity_buckets AS b (candidate_id, bucket, reserved, busy_ms, run_ids, spans, full_ms)
      -- A new bucket holds one run: full only on a 1-slot candidate (counted in the conflict branch otherwise).
      SELECT p_candidate_id, k.bucket, 1, p_busy_ms[k.i], ARRAY[p_run_id], k.span,
          CASE WHEN v_slots = 1 THEN greengrader_full_in(k.span, 1) END
        FROM (SELECT i, p_first + i - 1 AS bucket,
            ARRAY[greatest(v_start, (p_first + i - 1) * 300000) - (p_first + i - 1) * 300000,
              least(v_end, (p_first + i) * 300000) - (p_first + i - 1) * 300000]::integer[] AS span
          FROM generate_subscripts(p_busy_ms, 1) AS i) k
      ON CONFLICT ON CONSTRAINT capacity_buckets_candidate_id_bucket_pk
        DO UPDATE SET reserved = b.reserved + 1, busy_ms = b.busy_ms + excluded.busy_ms,
          run_ids = b.run_ids || excluded.run_ids, spans = b.spans || excluded.spans,
          full_ms = greengrader_full_in(b.spans || excluded.spans, v_slots)
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

-- As in 0014, shorter: "offset:busy_ms[:full start,end,…];…" per candidate, the offset counted from p_from_bucket
-- and the full periods in ms from the bucket's start (occupancyOf in src/db/reservations.ts reads it). A bucket
-- with no busy time left (busy_ms ≥ slots × bucket length) comes without its full periods: no start that touches
-- it has room whatever they are, and at a green hour under load nearly every bucket is such a one.
CREATE OR REPLACE FUNCTION greengrader_occupancy(p_candidate_ids text[], p_from_bucket bigint)
RETURNS TABLE (candidate_id text, buckets text) LANGUAGE sql STABLE AS $$
  SELECT b.candidate_id,
    string_agg((b.bucket - p_from_bucket)::text || ':' || b.busy_ms::text
      || CASE WHEN b.full_ms IS NULL OR b.busy_ms >= c.slots::bigint * 300000 THEN ''
        ELSE ':' || array_to_string(b.full_ms, ',') END, ';')
  FROM capacity_buckets b
  LEFT JOIN candidate_capacities c ON c.candidate_id = b.candidate_id
  WHERE b.candidate_id = ANY (p_candidate_ids) AND b.bucket >= p_from_bucket
  GROUP BY b.candidate_id
$$;
--> statement-breakpoint
DROP FUNCTION greengrader_recount_full(text, bigint, bigint);
--> statement-breakpoint
DROP FUNCTION greengrader_bucket_full(uuid[], bigint, integer);
