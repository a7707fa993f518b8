// The candidate sets the benchmark replays, built from config/regions.json, each with a capacity model.
import { type RegionsConfig, regionsOfZone, resolveRegion, US_TRACE_ZONES } from '../src/carbon/regions.js';
import type { Submission } from './arrivals.js';
import { peakHourlyWork } from './capacity.js';
import type { BenchCandidate, SimSetting } from './simulate.js';

export { US_TRACE_ZONES };

/** The C3Lab scheduler's three queue regions, as the original deployed them. */
const ORIGINAL_REGIONS = ['us-west', 'us-central', 'us-east'];

/**
 * Kubernetes nodes per region in ../shared/fixtures/nautilus/nodes.csv (us-west 171, us-central 49, us-east 70).
 * A course namespace on Nautilus gets a small quota; we give it one concurrent grader per 50 nodes, rounded up.
 */
const NAUTILUS_NODES: Record<string, number> = { 'us-west': 171, 'us-central': 49, 'us-east': 70 };
const NODES_PER_QUOTA_SLOT = 50;

/** How far the busiest hour's work exceeds each candidate's capacity in the scarce setting. */
const SCARCE_PEAK_OVER_CAPACITY = 3;

/** Placement's view of free room; capacity itself is carried in `capacity`. */
const UNLIMITED_SLOTS = 1_000_000;

export function buildSettings(config: RegionsConfig, submissions: readonly Submission[]): SimSetting[] {
  const zoneCandidates: BenchCandidate[] = US_TRACE_ZONES.map((zone) => ({
    id: zone,
    kind: 'k8s-region',
    region: regionsOfZone(config, zone)[0] ?? zone,
    zone,
    freeSlots: UNLIMITED_SLOTS,
  }));
  const regionCandidates: BenchCandidate[] = ORIGINAL_REGIONS.map((region) => {
    const resolved = resolveRegion(config, region);
    if (!resolved) throw new Error(`config/regions.json has no ${region}`);
    return { id: region, kind: 'k8s-region', region, zone: resolved.entry.zone, freeSlots: UNLIMITED_SLOTS };
  });
  // The deadline-hour peak (the busiest hour's arriving run-time, in runs at once) is about 3× what any one zone,
  // the cleanest included, can run at once; all 11 together still hold it several times over.
  const scarce = Math.max(1, Math.round(peakHourlyWork(submissions) / SCARCE_PEAK_OVER_CAPACITY));
  return [
    { name: 'us-11-zones', title: '11 US zones', candidates: zoneCandidates },
    {
      name: 'us-11-zones-scarce',
      title: `11 US zones, ${scarce} runs at once each`,
      candidates: zoneCandidates.map((c) => ({ ...c, capacity: scarce })),
    },
    { name: 'original-3-regions', title: "original's 3 regions (CAISO, MISO, PJM)", candidates: regionCandidates },
    {
      name: 'original-3-nautilus',
      title: `original's 3 regions, Nautilus-like quotas (${regionCandidates.map((c) => nautilusQuota(c.id)).join('/')})`,
      candidates: regionCandidates.map((c) => ({ ...c, capacity: nautilusQuota(c.id) })),
    },
  ];
}

function nautilusQuota(region: string): number {
  const nodes = NAUTILUS_NODES[region];
  if (nodes === undefined) throw new Error(`no Nautilus node count for ${region}`);
  return Math.ceil(nodes / NODES_PER_QUOTA_SLOT);
}
