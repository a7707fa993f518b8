import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import type { Config } from '../config/config.js';

/** The workflow type the schedule starts (the export name in src/workflows/index.ts). */
const WORKFLOW_TYPE = 'ReconcileRuns';

/** One schedule per orchestrator deployment: its task queue names it, as it names the workflows it serves. */
export function reconcileScheduleId(config: Config): string {
  return `${config.TEMPORAL_TASK_QUEUE}-reconcile-runs`;
}

/**
 * Creates the reconciliation schedule when missing and brings its interval and target up to date when they
 * differ, so every orchestrator start (and two starting at once) leaves exactly one schedule as configured.
 */
export async function ensureReconcileSchedule(
  client: Client,
  config: Config,
): Promise<'created' | 'updated' | 'unchanged'> {
  const scheduleId = reconcileScheduleId(config);
  const everyMs = config.RECONCILE_INTERVAL_SEC * 1000;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: scheduleId,
    // A pass no worker picks up (the orchestrator is down) is dropped rather than piled up.
    workflowExecutionTimeout: everyMs,
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: everyMs }] },
      action,
      // A slow pass is not run twice at once; missed passes while Temporal was down are not caught up one by one.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: everyMs },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  if (matches(await handle.describe(), everyMs, config.TEMPORAL_TASK_QUEUE)) return 'unchanged';
  await handle.update((previous) => ({
    ...previous,
    spec: { intervals: [{ every: everyMs }] },
    action,
    policies: { ...previous.policies, catchupWindow: everyMs },
  }));
  return 'updated';
}

function matches(description: ScheduleDescription, everyMs: number, taskQueue: string): boolean {
  const intervals = description.spec.intervals ?? [];
  const { action } = description;
  return (
    intervals.length === 1 &&
    intervals[0]?.every === everyMs &&
    (description.spec.calendars ?? []).length === 0 &&
    action.workflowType === WORKFLOW_TYPE &&
    action.taskQueue === taskQueue
  );
}
