-- Planning reads at 10,000 queued took ~1 ms of server time for a check alone: greengrader_occupancy_since
-- (0016) counted and summed the versions of every bucket from the plan's on, ~900 rows, so a cached book could
-- see a change that took no new version. The read now costs what changed: the index below finds the buckets
-- written after the reader's version and the candidate's highest version. What versions cannot show, a bucket with
-- runs in it deleted or the table truncated, raises capacity_book_epoch instead (a reader that saw another number
-- reads whole); deleting an empty bucket changes no cached book (a copy keeps no empty bucket) and raises nothing.
CREATE TABLE "capacity_book_epoch" (
	"one" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"epoch" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "capacity_book_epoch_one_row" CHECK ("capacity_book_epoch"."one")
);
--> statement-breakpoint
CREATE INDEX "capacity_buckets_candidate_version_idx" ON "capacity_buckets" USING btree ("candidate_id","version");--> statement-breakpoint

INSERT INTO "capacity_book_epoch" DEFAULT VALUES ON CONFLICT DO NOTHING;
--> statement-breakpoint

-- As in 0016, and every writer of a bucket, not only the ledger's functions (which already hold it), takes the
-- candidate's advisory lock until it commits: a candidate's versions then rise in commit order, so a read under
-- that lock after the highest version seen misses nothing.
CREATE OR REPLACE FUNCTION greengrader_bucket_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('greengrader:capacity:' || NEW.candidate_id));
  NEW.version := nextval('capacity_bucket_versions');
  RETURN NEW;
END $$;
--> statement-breakpoint

-- Raises the epoch; the row is made again should it be gone.
CREATE FUNCTION greengrader_book_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO capacity_book_epoch AS e (one, epoch) VALUES (true, 1)
    ON CONFLICT (one) DO UPDATE SET epoch = e.epoch + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER capacity_buckets_deleted AFTER DELETE ON capacity_buckets
  FOR EACH ROW WHEN (OLD.reserved > 0) EXECUTE FUNCTION greengrader_book_epoch();
--> statement-breakpoint
CREATE TRIGGER capacity_buckets_truncated AFTER TRUNCATE ON capacity_buckets
  FOR EACH STATEMENT EXECUTE FUNCTION greengrader_book_epoch();
--> statement-breakpoint

DROP FUNCTION greengrader_reserve_begin(uuid, text[], bigint, text[], integer[], bigint[]);
--> statement-breakpoint
DROP FUNCTION greengrader_occupancy_since(text[], bigint, bigint[]);
--> statement-breakpoint

-- The candidates' buckets from p_from_bucket on written after p_since[i], one row per candidate, in 0016's text
-- ("offset:version[:busy_ms[:full start,end,…]];…"; a whole read, since 0, leaves out the empty buckets), with the
-- candidate's highest version (at least p_since[i]) and the epoch. One statement: one snapshot for all three.
CREATE FUNCTION greengrader_occupancy_since(p_candidate_ids text[], p_from_bucket bigint, p_since bigint[])
RETURNS TABLE (candidate_id text, buckets text, last_version bigint, epoch bigint)
LANGUAGE sql STABLE AS $$
  SELECT s.id,
    coalesce((
      SELECT string_agg((b.bucket - p_from_bucket)::text || ':' || b.version::text
        || CASE WHEN b.reserved = 0 THEN ''
          ELSE ':' || b.busy_ms::text || CASE WHEN b.full_ms IS NULL OR b.busy_ms >= c.slots::bigint * 300000 THEN ''
            ELSE ':' || array_to_string(b.full_ms, ',') END END, ';')
      FROM capacity_buckets b LEFT JOIN candidate_capacities c ON c.candidate_id = b.candidate_id
      WHERE b.candidate_id = s.id AND b.version > s.since AND b.bucket >= p_from_bucket
        AND (b.reserved > 0 OR s.since > 0)
    ), ''),
    greatest(s.since, (SELECT coalesce(max(b.version), 0) FROM capacity_buckets b WHERE b.candidate_id = s.id)),
    coalesce((SELECT e.epoch FROM capacity_book_epoch e), 0)
  FROM unnest(p_candidate_ids, p_since) AS s(id, since)
$$;
--> statement-breakpoint

-- As in 0016, returning the new read.
CREATE FUNCTION greengrader_reserve_begin(
  p_run_id uuid, p_candidate_ids text[], p_from_bucket bigint, p_limited text[], p_slots integer[], p_since bigint[]
) RETURNS TABLE (candidate_id text, buckets text, last_version bigint, epoch bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  earlier run_reservations;
BEGIN
  earlier := greengrader_lock_capacity(p_run_id, p_candidate_ids);
  PERFORM greengrader_set_slots(p_limited, p_slots);
  PERFORM greengrader_unbook(earlier);
  RETURN QUERY SELECT * FROM greengrader_occupancy_since(p_candidate_ids, p_from_bucket, p_since);
END $$;
--> statement-breakpoint

-- The ledger's functions plan each statement once per connection. Under the default plan_cache_mode PostgreSQL
-- planned the read above again at every call (its estimate of a generic plan is no cheaper than a custom one):
-- ~0.7 ms a plan. A generic plan here is the same index scans for any arguments. The setting holds inside the
-- functions each calls too.
ALTER FUNCTION greengrader_lock_capacity(uuid, text[]) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION greengrader_unbook(run_reservations) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION greengrader_set_slots(text[], integer[]) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION greengrader_book(uuid, text, timestamptz, integer, bigint, integer[], bigint, timestamptz)
  SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION greengrader_hold_started(uuid, text[], bigint, integer) SET plan_cache_mode = force_generic_plan;
