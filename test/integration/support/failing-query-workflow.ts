import { proxyActivities } from '@temporalio/workflow';

/** The activities of test/integration/no-values-in-errors.test.ts. */
export interface FailingQueryActivities {
  insertTwice(value: string): Promise<void>;
}

const { insertTwice } = proxyActivities<FailingQueryActivities>({
  startToCloseTimeout: '30 s',
  retry: { maximumAttempts: 1 },
});

/** Runs one activity whose query fails with `value` among its parameters; the workflow fails with it. */
export async function failingQueryWorkflow(value: string): Promise<void> {
  await insertTwice(value);
}
