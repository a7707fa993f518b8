CREATE TABLE "run_slot_claims" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"lane" text NOT NULL,
	"queue_tag" double precision NOT NULL,
	"region" text NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"node_name" text,
	"starts_at" timestamp with time zone,
	"released_at" timestamp with time zone,
	CONSTRAINT "run_slot_claims_lane_check" CHECK ("run_slot_claims"."lane" in ('live', 'regrade'))
);
--> statement-breakpoint
ALTER TABLE "run_slot_claims" ADD CONSTRAINT "run_slot_claims_run_id_grading_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."grading_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "run_slot_claims_waiting_idx" ON "run_slot_claims" USING btree ("region","queue_tag") WHERE "run_slot_claims"."node_name" is null and "run_slot_claims"."released_at" is null;--> statement-breakpoint
CREATE INDEX "run_slot_claims_held_idx" ON "run_slot_claims" USING btree ("node_name") WHERE "run_slot_claims"."node_name" is not null and "run_slot_claims"."released_at" is null;--> statement-breakpoint
CREATE INDEX "run_slot_claims_lane_tag_idx" ON "run_slot_claims" USING btree ("lane","queue_tag");--> statement-breakpoint
-- Runs already on a node when this migration runs hold their slot as a claim, so placement keeps counting them.
INSERT INTO "run_slot_claims" ("run_id", "lane", "queue_tag", "region", "queued_at", "node_name", "starts_at")
SELECT "id", CASE WHEN "trigger" = 'rerun' THEN 'regrade' ELSE 'live' END, 0, coalesce("region", ''),
       coalesce("placed_at", now()), "node_name", coalesce("placed_at", now())
FROM "grading_runs"
WHERE "state" IN ('placed', 'running', 'recording') AND "node_name" IS NOT NULL;
