// Runs GradeSubmission against fake activities on whatever server the caller connected to: the time-skipping
// test server (workflow tests) or the dev server (recording histories). One task queue set per run.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { GradeSubmissionInput, GradingStatus } from '../../../src/shared/grading-types.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../../src/shared/search-attributes.js';
import { waitFor } from '../../support/wait-for.js';
import {
  createFakeActivities,
  nodeQueue,
  type CentralActivities,
  type FakeActivities,
  type Scenario,
  type ServerClock,
} from './fake-activities.js';

export const workflowsPath = fileURLToPath(new URL('../../../src/workflows/index.ts', import.meta.url));

/**
 * A server connection plus one orchestrator worker for many runs. Creating a workflow worker loads the bundle into
 * a V8 context (~2 s on a busy 2-core machine), so runs share it and its queue; the fakes each activity answers
 * with are looked up by workflow id, and node queues stay per run.
 */
export interface Rig {
  client: Client;
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  fakesByWorkflowId: Map<string, FakeActivities>;
  /** What the fakes take as now (the time-skipping server's virtual clock); the worker's clock without it. */
  clock?: ServerClock;
}

/** Starts the shared orchestrator worker; `stop()` shuts it down and waits for it. */
export async function startRig(
  options: Omit<Rig, 'taskQueue' | 'fakesByWorkflowId'> & { bundle: WorkflowBundle },
): Promise<Rig & { stop(): Promise<void> }> {
  const fakesByWorkflowId = new Map<string, FakeActivities>();
  const fakesOfThisRun = (): FakeActivities => {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const fakes = fakesByWorkflowId.get(workflowId);
    if (fakes === undefined) throw new Error(`no scenario for workflow ${workflowId}`);
    return fakes;
  };
  const names = Object.keys(createFakeActivities('', { nodes: [] }).central) as (keyof CentralActivities)[];
  const activities = Object.fromEntries(
    names.map((name) => [name, (input: never) => (fakesOfThisRun().central[name] as (i: never) => unknown)(input)]),
  ) as unknown as CentralActivities;
  const taskQueue = `gg-wf-${randomUUID().slice(0, 8)}-orchestrator`;
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    workflowBundle: options.bundle,
    activities,
  });
  const running = worker.run();
  return {
    ...options,
    taskQueue,
    fakesByWorkflowId,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/** Bundles once per process: webpack costs seconds, a test should not. */
export async function bundleWorkflows(path = workflowsPath): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: path, logger: quietLogger });
}

/**
 * Registers the workflow's search attributes. The test server has no ListSearchAttributes, so the orchestrator's
 * register-if-missing cannot be used; a fresh test server has none of them anyway.
 */
export async function addSearchAttributes(connection: NativeConnection, namespace = 'default'): Promise<void> {
  const indexed = proto.temporal.api.enums.v1.IndexedValueType;
  const byType: Partial<Record<SearchAttributeType, proto.temporal.api.enums.v1.IndexedValueType>> = {
    [SearchAttributeType.INT]: indexed.INDEXED_VALUE_TYPE_INT,
    [SearchAttributeType.KEYWORD]: indexed.INDEXED_VALUE_TYPE_KEYWORD,
    [SearchAttributeType.DOUBLE]: indexed.INDEXED_VALUE_TYPE_DOUBLE,
  };
  const searchAttributes = Object.fromEntries(
    ALL_SEARCH_ATTRIBUTES.map((key) => {
      const type = byType[key.type];
      if (type === undefined) throw new Error(`no indexed type for ${key.name} (${key.type})`);
      return [key.name, type];
    }),
  );
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
}

export const INPUT: GradeSubmissionInput = {
  payloadSha256: 'f'.repeat(64),
  trigger: 'ingest',
  receivedAt: '2026-11-26T10:00:00.000Z',
};

export interface ScenarioRun {
  fakes: FakeActivities;
  handle: WorkflowHandle;
  /** Resolves once the workflow's status query reports `state`. */
  reached(state: GradingStatus['state']): Promise<GradingStatus>;
}

/**
 * Starts one GradeSubmission with workers serving `fakes` (the orchestrator queue and one queue per node, except
 * `absentNodes`, whose queues nobody polls), runs `body`, and stops the workers.
 */
export async function runScenario<T>(
  rig: Rig,
  scenario: Scenario & { absentNodes?: string[] },
  body: (run: ScenarioRun) => Promise<T>,
): Promise<T> {
  const prefix = `gg-wf-${randomUUID().slice(0, 8)}`;
  const workflowId = `${prefix}-grade`;
  const fakes = createFakeActivities(prefix, scenario, rig.clock);
  rig.fakesByWorkflowId.set(workflowId, fakes);
  const nodeWorkers = await Promise.all(
    scenario.nodes
      .filter((node) => !scenario.absentNodes?.includes(node))
      .map((node) =>
        Worker.create({
          connection: rig.connection,
          namespace: rig.namespace,
          taskQueue: nodeQueue(prefix, node),
          activities: fakes.node(node),
        }),
      ),
  );
  const run = async (): Promise<T> => {
    const handle = await rig.client.workflow.start('GradeSubmission', {
      taskQueue: rig.taskQueue,
      workflowId,
      args: [INPUT],
    });
    const reached = (state: GradingStatus['state']): Promise<GradingStatus> =>
      waitFor(
        async () => {
          const status = await handle.query<GradingStatus>('gradingStatus');
          return status.state === state ? status : null;
        },
        { description: `${handle.workflowId} in state ${state}`, intervalMs: 20, timeoutMs: 10_000 },
      );
    return body({ fakes, handle, reached });
  };
  try {
    // Each node worker runs until the one inside it (and finally the body) is done.
    return await nodeWorkers.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), run)();
  } finally {
    rig.fakesByWorkflowId.delete(workflowId);
  }
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
