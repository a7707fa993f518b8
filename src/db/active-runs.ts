import { inArray, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { gradingRuns } from './schema.js';

/**
 * Runs placed on or running on each node, as a subquery to join on `nodeName`: the one notion of a node's
 * load that placement, `greengrader nodes` and the metrics share.
 */
export function activeRunsPerNode(db: Database) {
  return db
    .select({ nodeName: gradingRuns.nodeName, count: sql<number>`count(*)::int`.as('active_runs') })
    .from(gradingRuns)
    .where(inArray(gradingRuns.state, ['placed', 'running']))
    .groupBy(gradingRuns.nodeName)
    .as('active');
}
