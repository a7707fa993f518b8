import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { purgeExpired, type PurgeCounts } from '../db/retention-purge.js';
import { activityLogger } from '../observability/activity-logger.js';
import { countPurged } from '../observability/metrics.js';

export type { PurgeCounts };

/** The scheduled retention purge (src/workflows/purge-expired.ts); `greengrader purge` runs the same query. */
export function createRetentionActivities(db: Database, config: Config) {
  return {
    /** Drops payload bytes and run output past their retention period; counts and logs what went. */
    async purgeExpiredData(): Promise<PurgeCounts> {
      const counts = await purgeExpired(db, {
        now: new Date(),
        runOutputRetentionDays: config.RUN_OUTPUT_RETENTION_DAYS,
        dryRun: false,
      });
      countPurged(counts);
      activityLogger({}).info('retention purge', { ...counts });
      return counts;
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
