import { and, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { runSlotClaims } from './schema.js';

/**
 * Slots held on each node (claims not yet released), as a subquery to join on `nodeName`: the one notion of a
 * node's load that placement, slot claims, `greengrader nodes` and the metrics share.
 */
export function activeRunsPerNode(db: Database) {
  return db
    .select({ nodeName: runSlotClaims.nodeName, count: sql<number>`count(*)::int`.as('active_runs') })
    .from(runSlotClaims)
    .where(and(isNotNull(runSlotClaims.nodeName), isNull(runSlotClaims.releasedAt)))
    .groupBy(runSlotClaims.nodeName)
    .as('active');
}
