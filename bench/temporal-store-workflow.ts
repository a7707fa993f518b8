// The workflow bench:temporal-store drives: a graded run's shape as the server sees it (three local activities and a
// memo write, a wait ended by a signal, a local activity and a memo, an activity task, a local activity and a memo).
import {
  condition,
  defineSignal,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
} from '@temporalio/workflow';

interface StepActivities {
  step(n: number): Promise<number>;
}

const local = proxyLocalActivities<StepActivities>({ startToCloseTimeout: '10 seconds' });
const task = proxyActivities<StepActivities>({ startToCloseTimeout: '10 seconds' });
export const goSignal = defineSignal('go');

export async function gradedRunShape(): Promise<number> {
  let woken = false;
  setHandler(goSignal, () => {
    woken = true;
  });
  for (const n of [1, 2, 3]) await local.step(n);
  upsertMemo({ summary: 'queued' });
  // Longer than any round: the signal ends the wait, as a freed slot does.
  await condition(() => woken, '10 minutes');
  await local.step(4);
  upsertMemo({ summary: 'running' });
  await task.step(5);
  await local.step(6);
  upsertMemo({ summary: 'completed' });
  return 6;
}
