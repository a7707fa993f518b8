import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, gt, sql } from 'drizzle-orm';
import { activeRunsPerNode } from '../db/active-runs.js';
import type { Database } from '../db/client.js';
import { nodes } from '../db/schema.js';
import type { ExecutorKind } from '../shared/executor-kind.js';
import { NO_LIVE_NODE_ERROR, NODES_EXHAUSTED_ERROR } from '../shared/grading-types.js';

// The node columns placement needs, shared by both queries below.
export const liveNodeColumns = {
  name: nodes.name,
  kind: nodes.kind,
  taskQueue: nodes.taskQueue,
  region: nodes.region,
  zone: nodes.zone,
  maxConcurrentRuns: nodes.maxConcurrentRuns,
  prefetchRuns: nodes.prefetchRuns,
};

export interface LiveNode {
  name: string;
  /** What runs the graders: a Docker node, or a Kubernetes region's worker. */
  kind: ExecutorKind;
  taskQueue: string;
  region: string;
  zone: string;
  maxConcurrentRuns: number;
  /** Runs it takes beyond its slots; they wait on the node for a slot. */
  prefetchRuns: number;
  activeRuns: number;
}

/**
 * Nodes that checked in within the liveness window, minus those this run already gave up on, with
 * their current load. Throws a retryable NoLiveNode when none checks in, and a final NodesExhausted
 * when every live node already failed this run.
 */
export async function liveNodes(
  db: Database,
  livenessSec: number,
  excludeNodes: readonly string[],
): Promise<LiveNode[]> {
  const liveSince = new Date(Date.now() - livenessSec * 1000);
  const active = activeRunsPerNode(db);
  const live = await db
    .select({ ...liveNodeColumns, activeRuns: sql<number>`coalesce(${active.count}, 0)` })
    .from(nodes)
    .leftJoin(active, eq(active.nodeName, nodes.name))
    .where(gt(nodes.lastSeenAt, liveSince))
    .orderBy(nodes.name);
  const usable = live.filter((node) => !excludeNodes.includes(node.name));
  if (usable.length > 0) return usable;
  if (live.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `every live node already failed this run (${excludeNodes.join(', ')})`,
      NODES_EXHAUSTED_ERROR,
    );
  }
  throw ApplicationFailure.retryable(
    `no live worker node (none checked in within ${livenessSec} s)`,
    NO_LIVE_NODE_ERROR,
  );
}

/** One node, if it is still checking in (a plan may have waited hours since it was chosen). */
export async function findLiveNode(
  db: Database,
  livenessSec: number,
  name: string,
): Promise<Omit<LiveNode, 'activeRuns'> | null> {
  const liveSince = new Date(Date.now() - livenessSec * 1000);
  const [node] = await db
    .select(liveNodeColumns)
    .from(nodes)
    .where(and(eq(nodes.name, name), gt(nodes.lastSeenAt, liveSince)));
  return node ?? null;
}
