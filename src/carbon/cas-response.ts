// Turns a validated CAS answer into per-region figures in one set of units (gCO2, kWh, epoch ms).
import type { CasRawScores, CasSuccess } from './cas-schemas.js';
import type { IntensityBasis } from './provider.js';

export interface CasRegionResult {
  regionId: string;
  iso: string | null;
  /** Start the server chose: effective start + start delay. */
  startMs: number;
  startDelaySec: number;
  runtimeSec: number;
  energyKwh: number;
  computeEmissionsGCo2: number;
  migrationEmissionsGCo2: number;
  totalEmissionsGCo2: number;
  /** computeEmissions / energy over the chosen window; `null` when energy is 0. */
  meanIntensityGCo2PerKwh: number | null;
  /** Intensity series derived from `emission_rates.compute` (later versions), ascending. */
  intensitySeries: { atMs: number; intensityGCo2PerKwh: number }[];
  /** `raw-scores[region]` exactly as returned, for the receipt. */
  rawScores: CasRawScores;
}

export interface CasInterpretation {
  /** `v2023-05` when `details` carry `start_delay`; `later` (v2023-11 or HEAD) when they carry `timings`. */
  generation: 'v2023-05' | 'later';
  /** Unit the carbon figures came in. */
  carbonUnit: 'kgCO2' | 'gCO2';
  effectiveStartMs: number;
  /** effective start + runtime + max_delay: the end of the window the server searched. */
  windowEndMs: number;
  basis: IntensityBasis;
  dataSource: CasSuccess['request']['carbon_data_source'];
  regions: Map<string, CasRegionResult>;
  warnings: Record<string, string>;
}

/** Azure/WattTime is marginal; c3lab and emap are average mixes. */
function basisOfCasSource(source: CasSuccess['request']['carbon_data_source']): IntensityBasis {
  return source === 'azure' ? 'marginal' : 'average';
}

/** Throws (plain Error with the reason) when the answer contradicts itself; callers wrap it as invalid-response. */
export function interpretCasResponse(body: CasSuccess): CasInterpretation {
  const effectiveStartMs = Date.parse(body.request.schedule.start_time);
  const watts = body.request.watts_per_core * body.request.core_count;
  const regions = new Map<string, CasRegionResult>();
  let generation: CasInterpretation['generation'] | null = null;
  let carbonUnit: CasInterpretation['carbonUnit'] = 'kgCO2';
  for (const [regionId, raw] of Object.entries(body['raw-scores'])) {
    const details = body.details[regionId];
    if (!details) throw new Error(`raw-scores has ${regionId} but details do not`);
    const regionGeneration = 'start_delay' in details ? 'v2023-05' : 'later';
    if (generation !== null && generation !== regionGeneration) throw new Error('details mix API generations');
    generation = regionGeneration;
    // Contract rule: use carbon-emission-unit when present, otherwise the figures are kgCO2.
    carbonUnit = raw['carbon-emission-unit'] ?? 'kgCO2';
    const toGrams = carbonUnit === 'kgCO2' ? 1000 : 1;
    let startDelaySec: number;
    let runtimeSec = body.request.runtime;
    let intensitySeries: CasRegionResult['intensitySeries'] = [];
    if ('start_delay' in details) {
      startDelaySec = details.start_delay[0] ?? 0;
    } else {
      const timing = details.timings[0];
      if (!timing) throw new Error(`no timings for ${regionId}`);
      startDelaySec = (Date.parse(timing.compute_start) - Date.parse(timing.min_start)) / 1000;
      runtimeSec = timing.compute_duration;
      intensitySeries = Object.entries(details.emission_rates?.compute ?? {})
        .map(([at, gCo2PerSec]) => ({ atMs: Date.parse(at), intensityGCo2PerKwh: (gCo2PerSec * 3.6e6) / watts }))
        .sort((a, b) => a.atMs - b.atMs);
    }
    if (startDelaySec < 0 || startDelaySec > body.request.schedule.max_delay + 1) {
      throw new Error(`start delay ${startDelaySec} s of ${regionId} is outside [0, max_delay]`);
    }
    const energyKwh = raw['energy-usage'];
    const expectedKwh = (watts * runtimeSec) / 3.6e6;
    if (Math.abs(energyKwh - expectedKwh) > 1e-9 + 0.01 * expectedKwh) {
      throw new Error(`energy-usage ${energyKwh} kWh of ${regionId} is not ${watts} W × ${runtimeSec} s`);
    }
    const computeEmissionsGCo2 = raw['carbon-emission-from-compute'] * toGrams;
    regions.set(regionId, {
      regionId,
      iso: body.isos[regionId] ?? null,
      startMs: effectiveStartMs + startDelaySec * 1000,
      startDelaySec,
      runtimeSec,
      energyKwh,
      computeEmissionsGCo2,
      migrationEmissionsGCo2: raw['carbon-emission-from-migration'] * toGrams,
      totalEmissionsGCo2: raw['carbon-emission'] * toGrams,
      meanIntensityGCo2PerKwh: energyKwh > 0 ? computeEmissionsGCo2 / energyKwh : null,
      intensitySeries,
      rawScores: raw,
    });
  }
  return {
    generation: generation ?? 'v2023-05',
    carbonUnit,
    effectiveStartMs,
    windowEndMs: effectiveStartMs + (body.request.runtime + body.request.schedule.max_delay) * 1000,
    basis: basisOfCasSource(body.request.carbon_data_source),
    dataSource: body.request.carbon_data_source,
    regions,
    warnings: body.warnings,
  };
}
