import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, gt, inArray, notInArray, sql } from 'drizzle-orm';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { gradingRuns, nodes } from '../db/schema.js';
import { NO_LIVE_NODE_ERROR, NODES_EXHAUSTED_ERROR, type Placement } from '../shared/grading-types.js';

/** Headroom over build + grader time for copying files in and results out. */
const RUN_MARGIN_SEC = 120;

export const NO_LIVE_NODE = NO_LIVE_NODE_ERROR;

export function createPlacementActivities(db: Database, config: Config) {
  return {
    /**
     * Chooses the live node with the most free capacity (carbon-aware placement replaces this rule
     * later) and records the choice on the run. Throws a retryable NoLiveNode when none checks in.
     */
    async placeRun(input: { runId: string; excludeNodes: string[] }): Promise<Placement> {
      const liveSince = new Date(Date.now() - config.NODE_LIVENESS_SEC * 1000);
      const active = db
        .select({ nodeName: gradingRuns.nodeName, count: sql<number>`count(*)::int`.as('active') })
        .from(gradingRuns)
        .where(inArray(gradingRuns.state, ['placed', 'running']))
        .groupBy(gradingRuns.nodeName)
        .as('active');
      const conditions = [gt(nodes.lastSeenAt, liveSince)];
      if (input.excludeNodes.length > 0) conditions.push(notInArray(nodes.name, input.excludeNodes));
      const candidates = await db
        .select({
          name: nodes.name,
          taskQueue: nodes.taskQueue,
          region: nodes.region,
          zone: nodes.zone,
          load: sql<number>`coalesce(${active.count}, 0)::float / greatest(${nodes.maxConcurrentRuns}, 1)`,
        })
        .from(nodes)
        .leftJoin(active, eq(active.nodeName, nodes.name))
        .where(and(...conditions))
        .orderBy(sql`4 asc`, nodes.name);
      const chosen = candidates[0];
      if (!chosen) {
        const live = await db.select({ name: nodes.name }).from(nodes).where(gt(nodes.lastSeenAt, liveSince));
        if (live.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `every live node already failed this run (${input.excludeNodes.join(', ')})`,
            NODES_EXHAUSTED_ERROR,
          );
        }
        throw ApplicationFailure.retryable(
          `no live worker node (none checked in within ${config.NODE_LIVENESS_SEC} s)`,
          NO_LIVE_NODE,
        );
      }
      await db
        .update(gradingRuns)
        .set({
          state: 'placed',
          executor: 'docker',
          nodeName: chosen.name,
          region: chosen.region,
          zone: chosen.zone,
          placedAt: new Date(),
        })
        .where(eq(gradingRuns.id, input.runId));
      return {
        nodeName: chosen.name,
        taskQueue: chosen.taskQueue,
        region: chosen.region,
        zone: chosen.zone,
        runTimeoutSec: config.IMAGE_BUILD_TIMEOUT_SEC + config.GRADER_TIMEOUT_SEC + RUN_MARGIN_SEC,
        pickupTimeoutSec: config.NODE_PICKUP_TIMEOUT_SEC,
        maxAttempts: config.INFRA_MAX_ATTEMPTS,
      };
    },
  };
}

export type PlacementActivities = ReturnType<typeof createPlacementActivities>;
