// A node worker's load on its process's /metrics: capacity, and active runs counted from the run rows at
// each scrape (the count placement uses), so the figure is right whichever process changed the rows.
import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { gradingRuns } from '../db/schema.js';
import { metrics, type GreenGraderMetrics } from './metrics.js';

/** Reports `node`'s capacity and active runs until the returned function is called (the node leaves). */
export function trackNodeLoad(
  db: Database,
  node: { name: string; maxConcurrentRuns: number },
  target: GreenGraderMetrics = metrics,
): () => void {
  const labels = { node: node.name };
  target.nodeCapacity.set(labels, node.maxConcurrentRuns);
  target.nodeActiveRuns.set(labels, 0);
  target.nodeLoadSources.set(node.name, () =>
    db.$count(gradingRuns, and(eq(gradingRuns.nodeName, node.name), inArray(gradingRuns.state, ['placed', 'running']))),
  );
  return () => {
    target.nodeLoadSources.delete(node.name);
    target.nodeCapacity.remove(labels);
    target.nodeActiveRuns.remove(labels);
  };
}
