// zod schemas of the C3Lab carbon-aware scheduler API's responses, both generations (see
// /work/shared/fixtures/cas-api/CONTRACT.md §3 and §5). Only the fields we use are checked; others are dropped.
import { z } from 'zod';

/** ISO-8601 with a timezone offset (`Z` or `±hh:mm`), as the server echoes and emits times. */
const isoWithOffset = z
  .string()
  .regex(/(Z|[+-]\d{2}:?\d{2})$/, 'timestamp needs an offset')
  .refine((value) => !Number.isNaN(Date.parse(value)), 'not a timestamp');

const nonNegative = z.number().nonnegative();

/** `raw-scores[region]`; carbon figures are kgCO2 unless `carbon-emission-unit` says otherwise. */
const casRawScoresSchema = z.object({
  /** kWh of compute for the run(s) in the 24 h window. */
  'energy-usage': nonNegative,
  /** Emissions of the compute at the chosen start. */
  'carbon-emission-from-compute': nonNegative,
  /** Transfer emissions; always 0 in v2023-05 and in compute-only mode. */
  'carbon-emission-from-migration': nonNegative,
  /** Total over the window's runs. */
  'carbon-emission': nonNegative,
  /** GB moved (input + output). */
  'wan-network-usage': nonNegative,
  /** Later versions only. */
  'energy-usage-unit': z.literal('kWh').optional(),
  /** Later versions only (`gCO2`); absent means kgCO2. */
  'carbon-emission-unit': z.enum(['gCO2', 'kgCO2']).optional(),
});
export type CasRawScores = z.infer<typeof casRawScoresSchema>;

/** v2023-05 `details[region]`: the delay is in seconds, one entry per run. */
const detailsV202305Schema = z.object({
  start_delay: z.array(nonNegative).min(1),
  migration_emission: z.array(z.unknown()),
  migration_duration: z.array(z.unknown()),
});

/** Later `details[region]`: the delay is `compute_start − min_start`. */
const timingSchema = z.object({
  /** Effective earliest start. */
  min_start: isoWithOffset,
  /** min_start + runtime + max_delay. */
  max_end: isoWithOffset,
  compute_start: isoWithOffset,
  /** Seconds. */
  compute_duration: z.number().positive(),
  compute_end: isoWithOffset,
});
const detailsLaterSchema = z.object({
  timings: z.array(timingSchema).min(1),
  /** gCO2/s of the compute as a step series keyed by ISO time (hourly means). */
  emission_rates: z.object({ compute: z.record(isoWithOffset, nonNegative) }).optional(),
});

export const casSuccessSchema = z.object({
  /** Echo of the parsed request with defaults filled in; `start_time` is the effective start. */
  request: z.object({
    runtime: z.number().positive(),
    schedule: z.object({ start_time: isoWithOffset, max_delay: nonNegative }),
    carbon_data_source: z.enum(['c3lab', 'azure', 'emap']),
    use_prediction: z.boolean(),
    watts_per_core: z.number().positive(),
    core_count: z.number().positive(),
  }),
  /** `str(original_location)`: the literal `"None"` when omitted. */
  'original-region': z.string(),
  /** Ascending by rating: lower is better. */
  'optimal-regions': z.array(z.object({ rating: z.number(), candidates: z.array(z.string()) })),
  'weighted-scores': z.record(z.string(), z.number()),
  'raw-scores': z.record(z.string(), casRawScoresSchema),
  /** BA used per region (bare in v2023-05, `watttime:`/`emap:` prefixed later); null when the lookup failed. */
  isos: z.record(z.string(), z.string().nullable()),
  /** Regions skipped, with the reason; they appear in no score map. */
  warnings: z.record(z.string(), z.string()),
  details: z.record(z.string(), z.union([detailsV202305Schema, detailsLaterSchema])),
});
export type CasSuccess = z.infer<typeof casSuccessSchema>;

/** 422: webargs messages nested by location, then field. */
export const casValidationErrorSchema = z.object({ messages: z.object({ json: z.record(z.string(), z.unknown()) }) });
/** 400: no candidate could be scored. */
export const casNoViableSchema = z.object({ error: z.literal('No viable candidate') });
/** 500 and other werkzeug errors. */
export const casErrorSchema = z.object({ error: z.string() });

export type CasApiVersion = 'v2023-05' | 'v2023-11' | 'head';
