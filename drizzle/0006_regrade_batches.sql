CREATE TABLE "regrade_batch_items" (
	"batch_id" text NOT NULL,
	"position" integer NOT NULL,
	"payload_sha256" text NOT NULL,
	"gradescope_submission_id" bigint NOT NULL,
	"child_workflow_id" text NOT NULL,
	CONSTRAINT "regrade_batch_items_batch_id_position_pk" PRIMARY KEY("batch_id","position")
);
--> statement-breakpoint
CREATE TABLE "regrade_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"scope" text NOT NULL,
	"scope_id" bigint NOT NULL,
	"state" text DEFAULT 'running' NOT NULL,
	"total" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "regrade_batches_scope_check" CHECK ("regrade_batches"."scope" in ('assignment', 'course')),
	CONSTRAINT "regrade_batches_state_check" CHECK ("regrade_batches"."state" in ('running', 'completed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "regrade_batch_items" ADD CONSTRAINT "regrade_batch_items_batch_id_regrade_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."regrade_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regrade_batch_items" ADD CONSTRAINT "regrade_batch_items_payload_sha256_raw_payloads_sha256_fk" FOREIGN KEY ("payload_sha256") REFERENCES "public"."raw_payloads"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "regrade_batch_items_child_workflow_id_key" ON "regrade_batch_items" USING btree ("child_workflow_id");--> statement-breakpoint
CREATE INDEX "regrade_batches_created_at_idx" ON "regrade_batches" USING btree ("created_at");