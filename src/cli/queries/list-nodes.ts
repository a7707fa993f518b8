import { asc, eq, sql } from 'drizzle-orm';
import { activeRunsPerNode } from '../../db/active-runs.js';
import type { Database } from '../../db/client.js';
import { nodes } from '../../db/schema.js';

/** One registered worker node in `nodes --json`. */
interface NodeView {
  name: string;
  taskQueue: string;
  ip: string | null;
  region: string;
  zone: string;
  cpuModel: string;
  clockMhz: number;
  sockets: number;
  cores: number;
  cacheBytes: number | null;
  memoryBytes: number;
  maxConcurrentRuns: number;
  /** Runs it takes beyond its slots (prepared while the slots' graders run): claims may reach slots + prefetch. */
  prefetchRuns: number;
  /** Runs placed on or running on the node now (what placement counts as its load). */
  activeRuns: number;
  registeredAt: string;
  lastSeenAt: string;
  /** Checked in within the liveness window: placement may give it new work. */
  live: boolean;
}

/** `greengrader nodes --json`. */
export interface NodeList {
  /** The liveness window `live` was judged by (NODE_LIVENESS_SEC). */
  livenessSec: number;
  nodes: NodeView[];
}

/** Every node that ever registered, by name, with its load and whether it is live at `nowMs`. */
export async function listNodes(db: Database, livenessSec: number, nowMs = Date.now()): Promise<NodeList> {
  // The same notion of load as placement (src/activities/live-nodes.ts).
  const active = activeRunsPerNode(db);
  const rows = await db
    .select({
      name: nodes.name,
      taskQueue: nodes.taskQueue,
      ip: nodes.ip,
      region: nodes.region,
      zone: nodes.zone,
      cpuModel: nodes.cpuModel,
      clockMhz: nodes.clockMhz,
      sockets: nodes.sockets,
      cores: nodes.cores,
      cacheBytes: nodes.cacheBytes,
      memoryBytes: nodes.memoryBytes,
      maxConcurrentRuns: nodes.maxConcurrentRuns,
      prefetchRuns: nodes.prefetchRuns,
      activeRuns: sql<number>`coalesce(${active.count}, 0)`.mapWith(Number),
      registeredAt: nodes.registeredAt,
      lastSeenAt: nodes.lastSeenAt,
    })
    .from(nodes)
    .leftJoin(active, eq(active.nodeName, nodes.name))
    .orderBy(asc(nodes.name));
  const liveSinceMs = nowMs - livenessSec * 1000;
  return {
    livenessSec,
    nodes: rows.map((row) => ({
      ...row,
      registeredAt: row.registeredAt.toISOString(),
      lastSeenAt: row.lastSeenAt.toISOString(),
      live: row.lastSeenAt.getTime() > liveSinceMs,
    })),
  };
}
