// Builds the request body each CAS API generation accepts (CONTRACT.md §2 and §2.1).
import type { CasApiVersion } from './cas-schemas.js';

/** A CAS location: a predefined id (`Nautilus:us-west.ucsd`) or an ad-hoc one with coordinates. */
export interface CasLocation {
  id: string;
  latitude?: number;
  longitude?: number;
}

export interface CasQuery {
  version: CasApiVersion;
  /** Seconds; sent as a whole number ≥ 1 (the server drops fractions and rejects 0). */
  runtimeSec: number;
  /** `null` = the server's now (rounded up to 5 min when predicting). */
  startMs: number | null;
  maxDelaySec: number;
  locations: readonly CasLocation[];
  /** Where the run would go without carbon awareness; only HEAD uses it. */
  originalLocationId: string | null;
  dataSource: 'azure' | 'c3lab' | 'emap';
  usePrediction: boolean;
  wattsPerCore: number;
  coreCount: number;
}

/** `2023-05-24T22:00:00+00:00`: an explicit offset, which the server requires. */
function casTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

export function isAdHoc(location: CasLocation): boolean {
  return location.latitude !== undefined || location.longitude !== undefined;
}

/**
 * v2023-05: `candidate_locations`, no `original_location` (ad-hoc origins are rejected by an inverted check).
 * v2023-11: `candidate_providers` without `original_location`, since locations without an origin and any origin
 * both give 500; the answer then covers every region of those providers and we read ours.
 * HEAD: `candidate_locations` plus `original_location`, which it effectively requires.
 */
export function buildCasRequest(query: CasQuery): Record<string, unknown> {
  const body: Record<string, unknown> = {
    runtime: Math.max(1, Math.ceil(query.runtimeSec)),
    schedule: {
      type: 'onetime',
      start_time: query.startMs === null ? null : casTimestamp(query.startMs),
      max_delay: Math.max(0, Math.floor(query.maxDelaySec)),
    },
    dataset: { input_size_gb: 0, output_size_gb: 0 },
    carbon_data_source: query.dataSource,
    use_prediction: query.usePrediction,
    watts_per_core: query.wattsPerCore,
    core_count: query.coreCount,
  };
  if (query.version === 'v2023-11') {
    body.candidate_providers = [...new Set(query.locations.map((location) => location.id.split(':')[0] ?? ''))];
    return body;
  }
  body.candidate_locations = query.locations.map((location) =>
    isAdHoc(location)
      ? { id: location.id, latitude: location.latitude, longitude: location.longitude }
      : { id: location.id },
  );
  if (query.version === 'head') {
    body.original_location = query.originalLocationId ?? query.locations[0]?.id ?? null;
  }
  return body;
}
