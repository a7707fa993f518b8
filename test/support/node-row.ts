import type { Database } from '../../src/db/client.js';
import { nodes } from '../../src/db/schema.js';

export interface NodeRow {
  name: string;
  region: string;
  /** NODE_MAX_CONCURRENT_RUNS. */
  slots?: number;
  prefetchRuns?: number;
  /** Its last check-in: now by default (live). */
  lastSeenAt?: Date;
}

/** A Docker node as its registration leaves it (one slot, no prefetch, live by default): for slot-claim tests. */
export async function insertNodeRow(
  db: Database,
  { name, region, slots = 1, prefetchRuns = 0, lastSeenAt = new Date() }: NodeRow,
): Promise<void> {
  await db.insert(nodes).values({
    name,
    taskQueue: `q-${name}`,
    cpuModel: 'test',
    clockMhz: 1,
    sockets: 1,
    cores: slots,
    memoryBytes: 1,
    region,
    zone: 'a',
    maxConcurrentRuns: slots,
    prefetchRuns,
    lastSeenAt,
  });
}
