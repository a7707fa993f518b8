ALTER TABLE "grading_runs" ADD COLUMN "policy" text;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "deadline_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "planned_start_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "planned_intensity_g_co2_per_kwh" double precision;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "carbon_zone" text;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "plan" jsonb;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "expedited" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "energy_kwh" double precision;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "emissions_g_co2" double precision;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "intensity_g_co2_per_kwh" double precision;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "intensity_basis" text;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "intensity_source" text;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "counterfactual_emissions_g_co2" double precision;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "saving_g_co2" double precision;--> statement-breakpoint
ALTER TABLE "grading_runs" ADD COLUMN "carbon_receipt" jsonb;