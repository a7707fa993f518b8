// The parts of a run's `plan` and `carbon_receipt` JSON the dashboard shows, checked where they leave
// PostgreSQL (rows written by older versions may lack fields: every field is optional or defaulted).
import { z } from 'zod';

const attemptSchema = z.object({
  /** Carbon provider asked. */
  provider: z.string(),
  ok: z.boolean(),
  /** Failure kind (timeout, http-status, …) or null. */
  failure: z.string().nullish(),
  error: z.string().nullish(),
});

const candidateSchema = z.object({
  /** Node name. */
  id: z.string(),
  region: z.string(),
  /** Carbon zone of the region. */
  zone: z.string(),
  freeSlots: z.number().optional(),
});

export const planRecordSchema = z.object({
  policy: z.string().optional(),
  /** Chosen start minus planning time. */
  delayMs: z.number().optional(),
  basis: z.string().nullish(),
  forecastProvider: z.string().nullish(),
  forecastSources: z.array(z.string()).default([]),
  providerAttempts: z.array(attemptSchema).default([]),
  missingZones: z.array(z.object({ zone: z.string(), reason: z.string() })).default([]),
  notes: z.array(z.string()).default([]),
  fallbackReason: z.string().nullish(),
  plannedAt: z.string().optional(),
  deadline: z.string().optional(),
  /** Which rule set the deadline (max delay, due date…). */
  deadlineRule: z.string().optional(),
  estimatedDurationMs: z.number().optional(),
  expectedIntensityGCo2PerKwh: z.number().nullish(),
  /** What immediate-home expected: home, now. */
  expectedHomeNowIntensityGCo2PerKwh: z.number().nullish(),
  homeCandidateId: z.string().optional(),
  candidates: z.array(candidateSchema).default([]),
  optionsEvaluated: z.number().optional(),
});
export type PlanRecord = z.infer<typeof planRecordSchema>;

const figureSchema = z.object({
  zone: z.string(),
  startMs: z.number(),
  endMs: z.number(),
  intensityGCo2PerKwh: z.number(),
  emissionsGCo2: z.number(),
  /** average or marginal. */
  basis: z.string(),
  source: z.string(),
});
export type EmissionsRecord = z.infer<typeof figureSchema>;

export const receiptRecordSchema = z.object({
  energyKwh: z.number(),
  cpuEnergyKwh: z.number(),
  memoryEnergyKwh: z.number(),
  power: z.object({ wattsPerCore: z.number(), wattsPerMemoryGb: z.number(), pue: z.number() }).optional(),
  actual: figureSchema.nullable(),
  counterfactual: figureSchema.nullable(),
  savingGCo2: z.number().nullable(),
  savingFraction: z.number().nullable(),
  notes: z.array(z.string()).default([]),
  /** Providers asked for the run's intensity, in order. */
  providerAttempts: z.array(attemptSchema).default([]),
});
export type ReceiptRecord = z.infer<typeof receiptRecordSchema>;

/** The parsed value, or null when absent or not in the shape the dashboard knows. */
export function parseRecord<T>(schema: z.ZodType<T>, value: unknown): T | null {
  if (value === null || value === undefined) return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
