import type { Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import { ensureIntervalSchedule } from './interval-schedule.js';

/** One purge schedule per orchestrator deployment, named after its task queue like the reconciliation's. */
export function purgeScheduleId(config: Config): string {
  return `${config.TEMPORAL_TASK_QUEUE}-purge-expired`;
}

/** Keeps exactly one retention purge schedule, every PURGE_INTERVAL_SEC (see ensureIntervalSchedule). */
export function ensurePurgeSchedule(client: Client, config: Config): Promise<'created' | 'updated' | 'unchanged'> {
  return ensureIntervalSchedule(client, {
    scheduleId: purgeScheduleId(config),
    workflowType: 'PurgeExpired',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    everyMs: config.PURGE_INTERVAL_SEC * 1000,
  });
}
