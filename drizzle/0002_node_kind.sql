ALTER TABLE "grading_runs" ADD COLUMN "executor_node" text;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "executor_region" text;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "executor_zone" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "kind" text DEFAULT 'docker' NOT NULL;