import type { Client } from '@temporalio/client';
import type { Config } from '../config/config.js';
import { ensureIntervalSchedule } from './interval-schedule.js';

/** One schedule per orchestrator deployment: its task queue names it, as it names the workflows it serves. */
export function reconcileScheduleId(config: Config): string {
  return `${config.TEMPORAL_TASK_QUEUE}-reconcile-runs`;
}

/** Keeps exactly one reconciliation schedule, every RECONCILE_INTERVAL_SEC (see ensureIntervalSchedule). */
export function ensureReconcileSchedule(client: Client, config: Config): Promise<'created' | 'updated' | 'unchanged'> {
  return ensureIntervalSchedule(client, {
    scheduleId: reconcileScheduleId(config),
    workflowType: 'ReconcileRuns',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    everyMs: config.RECONCILE_INTERVAL_SEC * 1000,
  });
}
