CREATE TABLE "capacity_buckets" (
	"candidate_id" text NOT NULL,
	"bucket" bigint NOT NULL,
	"reserved" integer NOT NULL,
	CONSTRAINT "capacity_buckets_candidate_id_bucket_pk" PRIMARY KEY("candidate_id","bucket"),
	CONSTRAINT "capacity_buckets_reserved_check" CHECK ("capacity_buckets"."reserved" >= 0)
);
--> statement-breakpoint
CREATE TABLE "run_reservations" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"candidate_id" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"first_bucket" bigint NOT NULL,
	"last_bucket" bigint NOT NULL,
	"reserved_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "deadline_missed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "run_reservations" ADD CONSTRAINT "run_reservations_run_id_grading_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."grading_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "run_reservations_candidate_idx" ON "run_reservations" USING btree ("candidate_id","last_bucket");