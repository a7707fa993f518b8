CREATE TABLE "grading_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workflow_id" text NOT NULL,
	"payload_sha256" text NOT NULL,
	"submission_id" uuid,
	"trigger" text NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"executor" text,
	"node_name" text,
	"region" text,
	"zone" text,
	"image_tag" text,
	"image_build_ms" integer,
	"received_at" timestamp with time zone NOT NULL,
	"placed_at" timestamp with time zone,
	"image_ready_at" timestamp with time zone,
	"container_started_at" timestamp with time zone,
	"container_finished_at" timestamp with time zone,
	"recorded_at" timestamp with time zone,
	"outcome" text,
	"exit_code" integer,
	"cpu_time_ms" double precision,
	"execution_time_ms" integer,
	"turnaround_time_ms" integer,
	"score" double precision,
	"gradescope_score" double precision,
	"tests" jsonb,
	"leaderboard" jsonb,
	"visibility" text,
	"results_json" text,
	"results_truncated" boolean,
	"output" text,
	"output_truncated" boolean,
	"failure_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"name" text PRIMARY KEY NOT NULL,
	"task_queue" text NOT NULL,
	"ip" text,
	"cpu_model" text NOT NULL,
	"clock_mhz" integer NOT NULL,
	"sockets" integer NOT NULL,
	"cores" integer NOT NULL,
	"cache_bytes" bigint,
	"memory_bytes" bigint NOT NULL,
	"region" text NOT NULL,
	"zone" text NOT NULL,
	"max_concurrent_runs" integer NOT NULL,
	"registered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "raw_payloads" (
	"sha256" text PRIMARY KEY NOT NULL,
	"bytes" "bytea" NOT NULL,
	"size_bytes" integer NOT NULL,
	"topic" text NOT NULL,
	"receiver_ip" text,
	"status" text DEFAULT 'received' NOT NULL,
	"rejection_code" text,
	"rejection_reason" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"rejected_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "rejected_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"topic" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	"truncated" boolean NOT NULL,
	"sha256" text NOT NULL,
	"rejection_code" text NOT NULL,
	"rejection_reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "submissions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"payload_sha256" text NOT NULL,
	"gradescope_submission_id" bigint NOT NULL,
	"gradescope_created_at" timestamp with time zone NOT NULL,
	"course_id" bigint NOT NULL,
	"assignment_id" bigint NOT NULL,
	"assignment_title" text NOT NULL,
	"assignment_release_date" timestamp with time zone,
	"assignment_due_date" timestamp with time zone,
	"assignment_late_due_date" timestamp with time zone,
	"group_submission" boolean NOT NULL,
	"group_size" integer,
	"total_points" text NOT NULL,
	"outline" jsonb NOT NULL,
	"submission_method" text NOT NULL,
	"student_names" text[] NOT NULL,
	"student_emails" text[] NOT NULL,
	"student_sids" text[] NOT NULL,
	"student_user_ids" bigint[] NOT NULL,
	"student_assignment_dates" jsonb NOT NULL,
	"sender_ips" text[] NOT NULL,
	"receiver_ip" text,
	"source_hash" text NOT NULL,
	"anonymised" boolean NOT NULL,
	"anonymisation" jsonb NOT NULL,
	"zip" "bytea" NOT NULL,
	"gradescope_score" double precision,
	"gradescope_results" jsonb,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "grading_runs" ADD CONSTRAINT "grading_runs_payload_sha256_raw_payloads_sha256_fk" FOREIGN KEY ("payload_sha256") REFERENCES "public"."raw_payloads"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD CONSTRAINT "grading_runs_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "submissions" ADD CONSTRAINT "submissions_payload_sha256_raw_payloads_sha256_fk" FOREIGN KEY ("payload_sha256") REFERENCES "public"."raw_payloads"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "grading_runs_workflow_id_key" ON "grading_runs" USING btree ("workflow_id");--> statement-breakpoint
CREATE INDEX "grading_runs_submission_id_idx" ON "grading_runs" USING btree ("submission_id");--> statement-breakpoint
CREATE INDEX "grading_runs_node_state_idx" ON "grading_runs" USING btree ("node_name","state");--> statement-breakpoint
CREATE UNIQUE INDEX "submissions_payload_sha256_key" ON "submissions" USING btree ("payload_sha256");--> statement-breakpoint
CREATE INDEX "submissions_gradescope_submission_id_idx" ON "submissions" USING btree ("gradescope_submission_id");