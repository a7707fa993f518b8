-- A rejected message the broker sent again (its PUBACK lost) was stored once more. Such copies keep their row (when
-- and why each delivery was refused) but give up their bytes, identical to the first copy's (same SHA-256), which
-- keeps them: one row per message may then hold bytes, as the index below requires.
UPDATE "rejected_messages" AS later
SET "bytes" = NULL, "bytes_key_id" = NULL, "purge_after" = NULL, "bytes_purged_at" = now()
WHERE later."bytes_purged_at" IS NULL AND EXISTS (
  SELECT 1 FROM "rejected_messages" AS first
  WHERE first."sha256" = later."sha256" AND first."topic" = later."topic" AND first."bytes_purged_at" IS NULL
    AND (first."created_at", first."id") < (later."created_at", later."id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "rejected_messages_kept_once_idx" ON "rejected_messages" USING btree ("sha256",md5("topic")) WHERE "rejected_messages"."bytes_purged_at" is null;