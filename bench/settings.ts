// The candidate sets the benchmark replays, built from config/regions.json.
import { type RegionsConfig, regionsOfZone, resolveRegion, US_TRACE_ZONES } from '../src/carbon/regions.js';
import type { PlacementCandidate } from '../src/scheduling/policies.js';
import type { SimSetting } from './simulate.js';

export { US_TRACE_ZONES };

/** The C3Lab scheduler's three queue regions, as the original deployed them. */
const ORIGINAL_REGIONS = ['us-west', 'us-central', 'us-east'];

/** Capacity is not what the benchmark studies: every candidate always has a free slot. */
const UNLIMITED_SLOTS = 1_000_000;

export function buildSettings(config: RegionsConfig): SimSetting[] {
  const zoneCandidates: PlacementCandidate[] = US_TRACE_ZONES.map((zone) => ({
    id: zone,
    kind: 'k8s-region',
    region: regionsOfZone(config, zone)[0] ?? zone,
    zone,
    freeSlots: UNLIMITED_SLOTS,
  }));
  const regionCandidates: PlacementCandidate[] = ORIGINAL_REGIONS.map((region) => {
    const resolved = resolveRegion(config, region);
    if (!resolved) throw new Error(`config/regions.json has no ${region}`);
    return { id: region, kind: 'k8s-region', region, zone: resolved.entry.zone, freeSlots: UNLIMITED_SLOTS };
  });
  return [
    { name: 'us-11-zones', title: '11 US zones', candidates: zoneCandidates },
    { name: 'original-3-regions', title: "original's 3 regions (CAISO, MISO, PJM)", candidates: regionCandidates },
  ];
}
