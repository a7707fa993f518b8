// Typed fakes of the regrade activities and the stand-in child's log, recording every call with the calling run.
import { Context } from '@temporalio/activity';
import type { RegradeActivities } from '../../../src/activities/regrade-activities.js';
import { regradeChildWorkflowId, type RegradeItem } from '../../../src/shared/regrade-types.js';

export interface ChildLog {
  childStarted(input: { payloadSha256: string; trigger: string; atMs: number }): Promise<void>;
  childFinished(input: { payloadSha256: string; atMs: number }): Promise<void>;
  childCancelled(input: { payloadSha256: string }): Promise<void>;
}

export interface RegradeCall {
  name: string;
  input: unknown;
  /** The run of the workflow that called: tells continue-as-new runs apart. */
  runId: string;
}

/** Fakes over a fixed list of payload ids (positions 1…n), shared by every batch of one test. */
export function createRegradeFakes(payloads: readonly string[]) {
  const calls: RegradeCall[] = [];
  const record = (name: string, input: unknown) => {
    calls.push({ name, input, runId: Context.current().info.workflowExecution?.runId ?? '' });
  };
  const activities: RegradeActivities & ChildLog = {
    openRegradeBatch(input) {
      record('openRegradeBatch', input);
      return Promise.resolve({ total: payloads.length });
    },
    listRegradeItems(input) {
      record('listRegradeItems', input);
      const items: RegradeItem[] = payloads.map((payloadSha256, index) => ({
        position: index + 1,
        payloadSha256,
        childWorkflowId: regradeChildWorkflowId(payloadSha256, input.batchId),
      }));
      return Promise.resolve(items.filter((item) => item.position > input.afterPosition).slice(0, input.limit));
    },
    finishRegradeBatch(input) {
      record('finishRegradeBatch', input);
      return Promise.resolve();
    },
    childStarted(input) {
      record('childStarted', input);
      return Promise.resolve();
    },
    childFinished(input) {
      record('childFinished', input);
      return Promise.resolve();
    },
    childCancelled(input) {
      record('childCancelled', input);
      return Promise.resolve();
    },
  };
  const inputsOf = <T>(name: string): T[] => calls.filter((call) => call.name === name).map((c) => c.input as T);
  return { activities, calls, inputsOf };
}
