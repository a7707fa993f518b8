import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { createCarbonActivities } from '../activities/carbon-activities.js';
import { createCombinedSteps } from '../activities/combined-steps.js';
import { createPlacementActivities } from '../activities/placement-activities.js';
import { createSlotActivities } from '../activities/slot-activities.js';
import { createSlotRelease } from '../activities/slot-release.js';
import { createReconcileActivities } from '../activities/reconcile-activities.js';
import { createRegradeActivities } from '../activities/regrade-activities.js';
import { createResultsActivities } from '../activities/results-activities.js';
import { createRetentionActivities } from '../activities/retention-activities.js';
import { createRunActivities } from '../activities/run-activities.js';
import { createStorageActivities, type RetentionKeyring } from '../activities/storage-activities.js';
import type { CarbonProvider } from '../carbon/provider.js';
import type { RegionsConfig } from '../carbon/regions.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { readAnonymiseKey } from './anonymise-key.js';
import { ensurePurgeSchedule } from './purge-schedule.js';
import { ensureReconcileSchedule } from './reconcile-schedule.js';
import { redactActivityErrors } from './redact-activity-errors.js';
import { signalSlotFreed } from './signal-slot-freed.js';
import { registerSearchAttributes } from './register-search-attributes.js';
import { workflowTaskPolls } from './workflow-task-polls.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface OrchestratorWorkerDeps {
  connection: NativeConnection;
  /** Describes workflows for the reconciliation and keeps its schedule. */
  temporal: Client;
  db: Database;
  config: Config;
  regions: RegionsConfig;
  /** Carbon providers in the order they are tried (see createConfiguredProviders). */
  carbonProviders: readonly CarbonProvider[];
  /** Seals what storage keeps at rest (see src/app/retention-keyring.ts). */
  keyring: RetentionKeyring;
  /** A prebuilt bundle saves the webpack step when several workers start in one process (tests). */
  workflowBundle?: WorkflowBundle;
  /** A bridge in this process starts workflows eagerly through this worker's connection (`up`). */
  eagerStartsFromLocalBridge?: boolean;
}

/** The central worker: runs the workflows and every activity that is not tied to a node. */
export async function createOrchestratorWorker(deps: OrchestratorWorkerDeps): Promise<Worker> {
  const { db, config } = deps;
  const anonymiseKey = await readAnonymiseKey(config);
  await registerSearchAttributes(deps.connection, config.TEMPORAL_NAMESPACE);
  await ensureReconcileSchedule(deps.temporal, config);
  await ensurePurgeSchedule(deps.temporal, config);
  const wake = signalSlotFreed(deps.temporal);
  // Every way a run gives its slot back wakes the runs queued for it, not only a grader's normal end.
  const release = createSlotRelease(db, config, wake);
  const central = {
    ...createRunActivities(db, release),
    ...createStorageActivities(db, config, { anonymiseKey, keyring: deps.keyring }),
    ...createPlacementActivities(db, config, deps.regions),
    ...createSlotActivities(db, config, deps.regions, wake),
    ...createCarbonActivities(db, config, deps.regions, deps.carbonProviders),
    ...createResultsActivities(db, release),
  };
  return Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    // Bounded from config: each activity may hold a whole submission in memory (see the README's "Memory ceiling").
    maxConcurrentActivityTaskExecutions: config.ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES,
    // The workflows run their central activities locally (src/workflows/run-path.ts): the same bound applies.
    maxConcurrentLocalActivityExecutions: config.ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS,
    workflowTaskPollerBehavior: {
      type: 'simple-maximum',
      maximum: workflowTaskPolls(
        config.ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS,
        deps.eagerStartsFromLocalBridge ?? false,
      ),
    },
    maxCachedWorkflows: config.ORCHESTRATOR_MAX_CACHED_WORKFLOWS,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath }),
    activities: {
      ...central,
      ...createCombinedSteps(central),
      ...createReconcileActivities(db, deps.temporal, release),
      ...createRegradeActivities(db),
      ...createRetentionActivities(db, config),
    },
    interceptors: { activity: [redactActivityErrors] },
  });
}
