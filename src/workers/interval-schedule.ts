import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';

/** A Temporal Schedule that starts one workflow type every `everyMs` on the orchestrator's task queue. */
export interface IntervalSchedule {
  scheduleId: string;
  /** The workflow type the schedule starts (an export name in src/workflows/index.ts). */
  workflowType: string;
  taskQueue: string;
  everyMs: number;
}

/**
 * Creates the schedule when missing and brings its interval and target up to date when they differ, so every
 * orchestrator start (and two starting at once) leaves exactly one schedule as configured.
 */
export async function ensureIntervalSchedule(
  client: Client,
  wanted: IntervalSchedule,
): Promise<'created' | 'updated' | 'unchanged'> {
  const { scheduleId, everyMs } = wanted;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: wanted.workflowType,
    taskQueue: wanted.taskQueue,
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
  if (matches(await handle.describe(), wanted)) return 'unchanged';
  await handle.update((previous) => ({
    ...previous,
    spec: { intervals: [{ every: everyMs }] },
    action,
    policies: { ...previous.policies, catchupWindow: everyMs },
  }));
  return 'updated';
}

function matches(description: ScheduleDescription, wanted: IntervalSchedule): boolean {
  const intervals = description.spec.intervals ?? [];
  const { action } = description;
  return (
    intervals.length === 1 &&
    intervals[0]?.every === wanted.everyMs &&
    (description.spec.calendars ?? []).length === 0 &&
    action.workflowType === wanted.workflowType &&
    action.taskQueue === wanted.taskQueue
  );
}
