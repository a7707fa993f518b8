ALTER TABLE "raw_payloads" ALTER COLUMN "bytes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "rejected_messages" ALTER COLUMN "bytes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "output_purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "raw_payloads" ADD COLUMN "bytes_key_id" text;--> statement-breakpoint
ALTER TABLE "raw_payloads" ADD COLUMN "purge_after" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "raw_payloads" ADD COLUMN "bytes_purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rejected_messages" ADD COLUMN "bytes_key_id" text;--> statement-breakpoint
ALTER TABLE "rejected_messages" ADD COLUMN "purge_after" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rejected_messages" ADD COLUMN "bytes_purged_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "raw_payloads_purge_after_idx" ON "raw_payloads" USING btree ("purge_after") WHERE "raw_payloads"."purge_after" is not null;--> statement-breakpoint
CREATE INDEX "rejected_messages_purge_after_idx" ON "rejected_messages" USING btree ("purge_after") WHERE "rejected_messages"."purge_after" is not null;--> statement-breakpoint
CREATE INDEX "rejected_messages_sha256_idx" ON "rejected_messages" USING btree ("sha256");--> statement-breakpoint
-- Originals stored before retention existed are plaintext: the first purge drops them (`greengrader purge --dry-run` counts them first).
UPDATE "raw_payloads" SET "purge_after" = now() WHERE "status" = 'stored' AND "bytes" IS NOT NULL;--> statement-breakpoint
-- Quarantined payloads and rejected messages get the default quarantine period (14 days) from when they were refused.
UPDATE "raw_payloads" SET "purge_after" = coalesce("rejected_at", "received_at") + interval '14 days' WHERE "status" = 'rejected' AND "bytes" IS NOT NULL;--> statement-breakpoint
UPDATE "rejected_messages" SET "purge_after" = "created_at" + interval '14 days' WHERE "bytes" IS NOT NULL;
