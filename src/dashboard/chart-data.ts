// What the intensity chart shows: each zone of recent runs (the chosen one and the other candidates of
// its plan) as a step series of past intensity over the runs' span ± padding, from the first carbon
// provider that answers, and each run's planned and actual start. Plans do not keep their forecast
// series, so the past is asked again (actualIntensity); only the future of a waiting run is left blank.
import type { CarbonProvider } from '../carbon/provider.js';
import { resolveRegion, type RegionsConfig } from '../carbon/regions.js';
import { mapLimit, type IntensitySampler } from './intensity-sampler.js';
import type { RunSummary } from './run-queries.js';

interface ChartSeries {
  zone: string;
  /** Regions of recent runs and candidates in this zone, for the legend. */
  regions: string[];
  /** Value `i` holds over `[startMs, startMs + stepMs)`; null where the provider had no figure. */
  samples: { startMs: number; valueGCo2PerKwh: number | null }[];
}

export interface ChartMarker {
  kind: 'planned' | 'actual';
  runId: string;
  zone: string;
  atMs: number;
  /** From the series at that time, else the run's recorded figure; null when neither is known. */
  valueGCo2PerKwh: number | null;
  label: string;
}

export interface ChartData {
  fromMs: number;
  toMs: number;
  stepMs: number;
  nowMs: number;
  /** Provider the series come from, its basis and sources; null when none answered. */
  provider: string | null;
  basis: string | null;
  sources: string[];
  series: ChartSeries[];
  markers: ChartMarker[];
  notes: string[];
}

export interface ChartOptions {
  /** Time shown before the first and after the last run event; default 3 h. */
  paddingMs?: number;
  /** Samples per zone at most; the step is the smallest round step that keeps under it. Default 96. */
  maxPoints?: number;
  /** Zones drawn at most; default 8. */
  maxZones?: number;
  /** When set, the chart starts this long before now (or at the first run event, if earlier): a fixed window. */
  windowMs?: number;
}

export type ChartRun = Pick<
  RunSummary,
  | 'id'
  | 'gradescopeSubmissionId'
  | 'region'
  | 'carbonZone'
  | 'receivedAt'
  | 'plannedStartAt'
  | 'containerStartedAt'
  | 'containerFinishedAt'
  | 'plannedIntensityGCo2PerKwh'
  | 'intensityGCo2PerKwh'
  | 'plan'
>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const ROUND_STEPS_MS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
];
const SAMPLE_CONCURRENCY = 8;

/** The smallest round step that cuts `spanMs` into at most `maxPoints` pieces. */
export function roundStep(spanMs: number, maxPoints: number): number {
  const wanted = spanMs / Math.max(1, maxPoints);
  return ROUND_STEPS_MS.find((step) => step >= wanted) ?? Math.ceil(wanted / (24 * HOUR)) * 24 * HOUR;
}

/** Null when there is no run to chart. */
export async function buildChartData(input: {
  runs: readonly ChartRun[];
  providers: readonly CarbonProvider[];
  sampler: IntensitySampler;
  regions: RegionsConfig;
  nowMs: number;
  options?: ChartOptions;
}): Promise<ChartData | null> {
  const { runs, nowMs } = input;
  const paddingMs = input.options?.paddingMs ?? 3 * HOUR;
  const maxPoints = input.options?.maxPoints ?? 96;
  const maxZones = input.options?.maxZones ?? 8;
  const events = runs.flatMap((run) =>
    [run.receivedAt, run.plannedStartAt, run.containerStartedAt, run.containerFinishedAt]
      .filter((at): at is Date => at !== null)
      .map((at) => at.getTime()),
  );
  if (events.length === 0) return null;
  const first = Math.min(...events);
  const last = Math.max(...events);
  const windowMs = input.options?.windowMs;
  const startMs = windowMs === undefined ? first - paddingMs : Math.min(first, nowMs - windowMs);
  const sampleEndMs = Math.max(first, Math.min(last + paddingMs, nowMs));
  const stepMs = roundStep(sampleEndMs - startMs, maxPoints);
  const fromMs = Math.floor(startMs / stepMs) * stepMs;
  const toMs = Math.max(sampleEndMs, last);

  const notes: string[] = [];
  const zones = zonesOf(runs, input.regions, notes);
  if (zones.size > maxZones) notes.push(`${zones.size - maxZones} more zones not drawn`);
  const drawn = [...zones].slice(0, maxZones);
  const starts: number[] = [];
  for (let at = fromMs; at < sampleEndMs; at += stepMs) starts.push(at);

  let chosen: { provider: string; series: ChartSeries[]; basis: string | null; sources: string[] } | null = null;
  for (const provider of input.providers) {
    const sampled = await mapLimit(
      drawn.flatMap(([zone]) => starts.map((startMs) => ({ zone, startMs }))),
      SAMPLE_CONCURRENCY,
      ({ zone, startMs }) => input.sampler.sample(provider, zone, startMs, Math.min(startMs + stepMs, sampleEndMs)),
    );
    const answered = sampled.filter((s) => 'value' in s);
    if (answered.length === 0) {
      const firstError = sampled.find((s) => 'error' in s);
      notes.push(`${provider.name}: no figure${firstError && 'error' in firstError ? ` (${firstError.error})` : ''}`);
      continue;
    }
    const series = drawn.map(([zone, regions], z) => ({
      zone,
      regions: [...regions],
      samples: starts.map((startMs, i) => {
        const sample = sampled[z * starts.length + i];
        return { startMs, valueGCo2PerKwh: sample && 'value' in sample ? sample.value : null };
      }),
    }));
    for (const s of series) {
      if (s.samples.every((sample) => sample.valueGCo2PerKwh === null))
        notes.push(`${provider.name}: no data for ${s.zone}`);
    }
    const bases = [...new Set(answered.map((s) => ('value' in s ? s.basis : '')))];
    if (bases.length > 1) notes.push(`${provider.name} mixed ${bases.join(' and ')} figures`);
    chosen = {
      provider: provider.name,
      series,
      basis: bases.join(', ') || null,
      sources: [...new Set(answered.map((s) => ('value' in s ? s.source : '')))],
    };
    break;
  }
  if (input.providers.length === 0) notes.push('no carbon provider configured: no intensity series');

  const series = chosen?.series ?? [];
  const valueAt = (zone: string, atMs: number) => {
    const samples = series.find((s) => s.zone === zone)?.samples ?? [];
    return samples.find((s) => s.startMs <= atMs && atMs < s.startMs + stepMs)?.valueGCo2PerKwh ?? null;
  };
  const markers: ChartMarker[] = [];
  for (const run of runs) {
    const zone = zoneOf(run, input.regions);
    if (!zone) continue;
    const name = run.gradescopeSubmissionId === null ? run.id.slice(0, 8) : `submission ${run.gradescopeSubmissionId}`;
    if (run.plannedStartAt) {
      const atMs = run.plannedStartAt.getTime();
      const value = valueAt(zone, atMs) ?? run.plannedIntensityGCo2PerKwh;
      markers.push({
        kind: 'planned',
        runId: run.id,
        zone,
        atMs,
        valueGCo2PerKwh: value,
        label: `${name}: planned start`,
      });
    }
    if (run.containerStartedAt) {
      const atMs = run.containerStartedAt.getTime();
      const value = valueAt(zone, atMs) ?? run.intensityGCo2PerKwh;
      markers.push({ kind: 'actual', runId: run.id, zone, atMs, valueGCo2PerKwh: value, label: `${name}: started` });
    }
  }
  return {
    fromMs,
    toMs,
    stepMs,
    nowMs,
    provider: chosen?.provider ?? null,
    basis: chosen?.basis ?? null,
    sources: chosen?.sources ?? [],
    series,
    markers,
    notes,
  };
}

/** The run's carbon zone: as recorded, else from its region; `unmapped:<region>` when the region has none. */
function rawZoneOf(run: ChartRun, regions: RegionsConfig): string | null {
  if (run.carbonZone) return run.carbonZone;
  if (!run.region) return null;
  return resolveRegion(regions, run.region)?.entry.zone ?? `unmapped:${run.region}`;
}

function zoneOf(run: ChartRun, regions: RegionsConfig): string | null {
  const zone = rawZoneOf(run, regions);
  return zone && !zone.startsWith('unmapped:') ? zone : null;
}

/** Zone → its regions: each run's own zone first, then the other candidates its plan weighed. */
function zonesOf(runs: readonly ChartRun[], regions: RegionsConfig, notes: string[]): Map<string, Set<string>> {
  const zones = new Map<string, Set<string>>();
  const unmapped = new Set<string>();
  const add = (zone: string | null, region: string | null) => {
    if (zone === null) return;
    if (zone.startsWith('unmapped:')) {
      unmapped.add(zone.slice('unmapped:'.length));
      return;
    }
    const set = zones.get(zone) ?? new Set<string>();
    if (region) set.add(region);
    zones.set(zone, set);
  };
  for (const run of runs) add(rawZoneOf(run, regions), run.region);
  for (const run of runs) {
    for (const candidate of run.plan?.candidates ?? []) add(candidate.zone, candidate.region);
  }
  if (unmapped.size > 0) notes.push(`regions without a carbon zone: ${[...unmapped].join(', ')}`);
  return zones;
}
