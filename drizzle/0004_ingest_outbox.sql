ALTER TABLE "raw_payloads" ADD COLUMN "workflow_started_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "raw_payloads_pending_start_idx" ON "raw_payloads" USING btree ("received_at") WHERE "raw_payloads"."workflow_started_at" is null;--> statement-breakpoint
-- Rows stored before the outbox existed had their workflows started by the old bridge, before its PUBACK.
UPDATE "raw_payloads" SET "workflow_started_at" = "received_at" WHERE "workflow_started_at" IS NULL;
