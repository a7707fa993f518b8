-- A plan on an unchanged book in one round trip instead of two. A process whose copy of the book is current
-- (src/db/occupancy-cache.ts) plans on it first and sends the locking, the booking and the commit at once; this
-- function stands where greengrader_reserve_begin's read stood and refuses the transaction when that read would
-- have brought anything: a bucket from p_from_bucket on written since the copy's versions (including the run's own
-- earlier booking, freed here), or another epoch. The client then rolls back and plans as before, so whichever
-- way it went, a committed plan was made on exactly the book a locking read would have handed it.
CREATE FUNCTION greengrader_reserve_unchanged(
  p_run_id uuid, p_candidate_ids text[], p_from_bucket bigint, p_limited text[], p_slots integer[], p_since bigint[],
  p_epoch bigint
) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  earlier run_reservations;
BEGIN
  -- As greengrader_reserve_begin (0018), whose read lists exactly the buckets this finds; the text is not built.
  earlier := greengrader_lock_capacity(p_run_id, p_candidate_ids);
  PERFORM greengrader_set_slots(p_limited, p_slots);
  PERFORM greengrader_unbook(earlier);
  IF coalesce((SELECT e.epoch FROM capacity_book_epoch e), 0) <> p_epoch THEN
    RAISE EXCEPTION 'the capacity book changed since this process last read it' USING ERRCODE = 'GGB01';
  END IF;
  -- One index scan per candidate ((candidate_id, version)): 0.27 ms a call at 10,000 queued, where one join over
  -- unnest() took 1.06 ms (pg_stat_user_functions, self time).
  FOR i IN 1 .. coalesce(cardinality(p_candidate_ids), 0) LOOP
    IF EXISTS (
      SELECT 1 FROM capacity_buckets b
      WHERE b.candidate_id = p_candidate_ids[i] AND b.version > p_since[i] AND b.bucket >= p_from_bucket
        AND (b.reserved > 0 OR p_since[i] > 0)
    ) THEN
      RAISE EXCEPTION 'the capacity book changed since this process last read it' USING ERRCODE = 'GGB01';
    END IF;
  END LOOP;
END $$;
--> statement-breakpoint

-- What a plan's own booking wrote, read after it in the same round trip so the copy stays current. Called from a
-- plain query, the SQL function of 0018 is inlined and planned again at every call (~0.7 ms, as 0018 found for the
-- locking read); called from PL/pgSQL, its generic plan is kept for the connection.
CREATE FUNCTION greengrader_occupancy_after(p_candidate_ids text[], p_from_bucket bigint, p_since bigint[])
RETURNS TABLE (candidate_id text, buckets text, last_version bigint, epoch bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN QUERY SELECT * FROM greengrader_occupancy_since(p_candidate_ids, p_from_bucket, p_since);
END $$;
