-- Planning reads only what changed (issue 12: planning ≤ 5 ms at 10,000 queued). Every write of a bucket takes a
-- new number from capacity_bucket_versions (a trigger; the ledger's writes of a candidate hold its advisory lock
-- until commit, so its numbers rise in commit order), and a bucket whose last run left is kept empty (reserved 0),
-- so a planner that keeps the book in memory (src/db/occupancy-cache.ts) asks only for the buckets written since
-- the highest number it has seen: a few per plan instead of ~900 at 10,000 queued. With them comes a count and a
-- sum of versions of the live buckets, so a cache that missed a change (a truncate, a delete, a write outside
-- the candidate's lock) sees it and reads the candidate whole.
CREATE SEQUENCE "public"."capacity_bucket_versions" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
ALTER TABLE "capacity_buckets" ADD COLUMN "version" bigint DEFAULT nextval('capacity_bucket_versions') NOT NULL;
--> statement-breakpoint

-- As in 0015, but a bucket the run leaves empty is kept with nothing in it (a change a cached book must see, by
-- its new version); empty buckets an hour in the past go (nobody plans there).
CREATE OR REPLACE FUNCTION greengrader_unbook(p_row run_reservations) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_slots integer;
BEGIN
  IF p_row.run_id IS NULL THEN
    RETURN;
  END IF;
  SELECT c.slots INTO v_slots FROM candidate_capacities c WHERE c.candidate_id = p_row.candidate_id;
  UPDATE capacity_buckets b SET reserved = greatest(b.reserved - 1, 0),
      busy_ms = CASE WHEN b.reserved <= 1 THEN 0
        ELSE greatest(0, b.busy_ms - coalesce(p_row.bucket_busy_ms[b.bucket - p_row.first_bucket + 1], 0)) END,
      run_ids = array_remove(b.run_ids, p_row.run_id),
      spans = greengrader_spans_without(b.run_ids, b.spans, p_row.run_id),
      full_ms = greengrader_full_in(greengrader_spans_without(b.run_ids, b.spans, p_row.run_id), v_slots)
    WHERE b.candidate_id = p_row.candidate_id AND b.bucket BETWEEN p_row.first_bucket AND p_row.last_bucket;
  DELETE FROM capacity_buckets b
    WHERE b.candidate_id = p_row.candidate_id AND b.reserved = 0
      AND b.bucket < floor(extract(epoch FROM now()) * 1000 / 300000)::bigint - 12;
  DELETE FROM run_reservations r WHERE r.run_id = p_row.run_id;
END $$;
--> statement-breakpoint

-- Every write of a bucket, by these functions or any other statement, takes the next version.
CREATE FUNCTION greengrader_bucket_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := nextval('capacity_bucket_versions');
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER capacity_buckets_version BEFORE INSERT OR UPDATE ON capacity_buckets
  FOR EACH ROW EXECUTE FUNCTION greengrader_bucket_version();
--> statement-breakpoint

-- The candidates' buckets from p_from_bucket on written after p_since[i] (the highest version the reader has of
-- candidate i; 0: every bucket), one row per candidate: "offset:version[:busy_ms[:full start,end,…]];…", the offset
-- from p_from_bucket, an empty bucket as offset and version alone, and, as in 0015, no full periods for a bucket
-- with no busy time left. live_rows and version_sum count every non-empty bucket from p_from_bucket on, whatever
-- its version, for the reader to check its copy against; last_version is the highest version there.
CREATE FUNCTION greengrader_occupancy_since(p_candidate_ids text[], p_from_bucket bigint, p_since bigint[])
RETURNS TABLE (candidate_id text, buckets text, live_rows integer, version_sum bigint, last_version bigint)
LANGUAGE sql STABLE AS $$
  SELECT s.id,
    coalesce(string_agg((b.bucket - p_from_bucket)::text || ':' || b.version::text
      || CASE WHEN b.reserved = 0 THEN ''
        ELSE ':' || b.busy_ms::text || CASE WHEN b.full_ms IS NULL OR b.busy_ms >= c.slots::bigint * 300000 THEN ''
          ELSE ':' || array_to_string(b.full_ms, ',') END END, ';')
      -- A whole read (since 0) leaves out the empty buckets: nothing to forget yet.
      FILTER (WHERE b.version > s.since AND (b.reserved > 0 OR s.since > 0)), ''),
    (count(*) FILTER (WHERE b.reserved > 0))::integer,
    coalesce(sum(b.version) FILTER (WHERE b.reserved > 0), 0)::bigint,
    coalesce(max(b.version), 0)
  FROM unnest(p_candidate_ids, p_since) AS s(id, since)
  LEFT JOIN capacity_buckets b ON b.candidate_id = s.id AND b.bucket >= p_from_bucket
  LEFT JOIN candidate_capacities c ON c.candidate_id = s.id
  GROUP BY s.id
$$;
--> statement-breakpoint

-- As in 0014, reading with greengrader_occupancy_since: only what changed after the reader's versions p_since.
DROP FUNCTION greengrader_reserve_begin(uuid, text[], bigint, text[], integer[]);
--> statement-breakpoint
CREATE FUNCTION greengrader_reserve_begin(
  p_run_id uuid, p_candidate_ids text[], p_from_bucket bigint, p_limited text[], p_slots integer[], p_since bigint[]
) RETURNS TABLE (candidate_id text, buckets text, live_rows integer, version_sum bigint, last_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
  earlier run_reservations;
BEGIN
  earlier := greengrader_lock_capacity(p_run_id, p_candidate_ids);
  PERFORM greengrader_set_slots(p_limited, p_slots);
  PERFORM greengrader_unbook(earlier);
  RETURN QUERY SELECT * FROM greengrader_occupancy_since(p_candidate_ids, p_from_bucket, p_since);
END $$;
--> statement-breakpoint
DROP FUNCTION greengrader_occupancy(text[], bigint);
