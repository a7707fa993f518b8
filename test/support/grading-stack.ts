import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { loadConfig, type Config } from '../../src/config/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { gradingRuns } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { runBridge } from '../../src/cli/run-bridge.js';
import type { RunningBridge } from '../../src/bridge/mqtt-bridge.js';
import { createOrchestratorWorker, workflowsPath } from '../../src/workers/orchestrator-worker.js';
import {
  createNodeWorker,
  kubernetesNodeName,
  type NodeKind,
  type RunningNodeWorker,
} from '../../src/workers/node-worker.js';
import type { AutograderExecutor } from '../../src/executors/executor.js';
import { createConfiguredProviders } from '../../src/carbon/configured-providers.js';
import type { CarbonProvider } from '../../src/carbon/provider.js';
import { loadRegionsConfig } from '../../src/carbon/regions.js';
import { createFreshDatabase } from './fresh-database.js';
import { requireEnv } from './env.js';
import { waitFor } from './wait-for.js';

// Worker state changes at INFO drown the test report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

let bundle: Promise<WorkflowBundle> | undefined;
/** Webpack takes seconds: one workflow bundle per test process. */
function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: Runtime.instance().logger });
  return bundle;
}

export interface StackOptions {
  /** Start the MQTT bridge (default true). */
  bridge?: boolean;
  /** Node workers to start (default one). */
  nodes?: number;
  /** Extra configuration over the test defaults. */
  env?: Record<string, string>;
  /** Carbon providers for the orchestrator (typed fakes in tests); default: from the configuration. */
  carbonProviders?: CarbonProvider[];
}

export interface GradingStack {
  config: Config;
  database: DatabaseHandle;
  temporal: Client;
  bridge: RunningBridge | null;
  nodes: RunningNodeWorker[];
  /** Polls the run row of a workflow until `done` says so. */
  waitForRun(workflowId: string, done?: (run: RunRow) => boolean, timeoutMs?: number): Promise<RunRow>;
  startNode(
    env?: Record<string, string>,
    executor?: AutograderExecutor,
    options?: StartNodeOptions,
  ): Promise<RunningNodeWorker>;
  /** Stops the orchestrator worker and starts a fresh one, as a process restart would. */
  restartOrchestrator(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  /** Default docker. A Kubernetes region's worker needs K8S_REGION (and credentials) in `env`. */
  kind?: NodeKind;
  /**
   * Default: `NODE_NAME-N` for Docker; `k8s-REGION[.ZONE]-NODE_NAME` for Kubernetes, as unique per stack as
   * Docker names are, because Temporal (and so the node's task queue) is shared by every test file.
   */
  nodeName?: string;
}

export type RunRow = typeof gradingRuns.$inferSelect;

/**
 * The whole grading path in this process, on the real services `npm test` started: a fresh database,
 * unique task queues, topic and client id per stack, so tests never share state.
 */
export async function startGradingStack(options: StackOptions = {}): Promise<GradingStack> {
  const suffix = randomUUID().slice(0, 8);
  const fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
  const config = loadConfig({
    DATABASE_URL: fresh.url,
    TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
    TEMPORAL_TASK_QUEUE: `greengrader-test-${suffix}`,
    MQTT_URL: requireEnv('MQTT_URL'),
    MQTT_USERNAME: requireEnv('MQTT_USERNAME'),
    MQTT_PASSWORD: requireEnv('MQTT_PASSWORD'),
    MQTT_TOPIC: `submissions-${suffix}`,
    MQTT_CLIENT_ID: `greengrader-bridge-${suffix}`,
    AUTOGRADER_BASE_IMAGE: requireEnv('GG_TEST_BASE_IMAGE'),
    IMAGE_BUILD_NETWORK: 'none',
    NODE_NAME: `node-${suffix}`,
    NODE_MAX_CONCURRENT_RUNS: '2',
    GRADER_TIMEOUT_SEC: '20',
    GRADER_MEMORY_BYTES: String(256 * 1024 * 1024),
    // Runs start at once unless a test asks for carbon-aware waiting with its own providers.
    MAX_DELAY_SEC: '0',
    CARBON_PROVIDERS: 'none',
    ...options.env,
  });
  const database = connectDatabase(config.DATABASE_URL);
  await migrateDatabase(database.pool);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });

  const regions = await loadRegionsConfig(config.REGIONS_FILE);
  const carbonProviders = options.carbonProviders ?? (await createConfiguredProviders(config, regions, silentLogger));
  const orchestratorDeps = { connection, db: database.db, config, regions, carbonProviders };
  let orchestrator = await createOrchestratorWorker({ ...orchestratorDeps, workflowBundle: await workflowBundle() });
  let orchestratorRun = orchestrator.run();
  const running: Promise<void>[] = [];
  const nodes: RunningNodeWorker[] = [];
  let nodeCount = 0;
  const startNode = async (
    env: Record<string, string> = {},
    executor?: AutograderExecutor,
    nodeOptions: StartNodeOptions = {},
  ) => {
    nodeCount += 1;
    const nodeConfig = { ...config, NODE_NAME: `${config.NODE_NAME}-${nodeCount}`, ...loadConfigPartial(env) };
    const kind = nodeOptions.kind ?? 'docker';
    const nodeName =
      nodeOptions.nodeName ??
      (kind === 'kubernetes'
        ? `${kubernetesNodeName(nodeConfig.K8S_REGION, nodeConfig.K8S_ZONE || undefined)}-${config.NODE_NAME}`
        : undefined);
    const node = await createNodeWorker({
      connection,
      db: database.db,
      config: nodeConfig,
      logger: silentLogger,
      checkInIntervalMs: 1000,
      executor,
      kind,
      ...(nodeName === undefined ? {} : { nodeName }),
    });
    nodes.push(node);
    running.push(node.run());
    return node;
  };
  for (let i = 0; i < (options.nodes ?? 1); i++) await startNode();
  const bridge = options.bridge === false ? null : runBridge(config, database.db, temporal, silentLogger);
  if (bridge) await bridge.ready;

  return {
    config,
    database,
    temporal,
    bridge,
    nodes,
    startNode,
    async restartOrchestrator() {
      orchestrator.shutdown();
      await orchestratorRun;
      orchestrator = await createOrchestratorWorker({ ...orchestratorDeps, workflowBundle: await workflowBundle() });
      orchestratorRun = orchestrator.run();
    },
    async waitForRun(workflowId, done, timeoutMs = 60_000) {
      const select = async () =>
        (await database.db.select().from(gradingRuns).where(eq(gradingRuns.workflowId, workflowId)))[0];
      const run = await waitFor(
        async () => {
          const row = await select();
          return row && (done ?? isFinal)(row) ? row : undefined;
        },
        { timeoutMs, description: `run of ${workflowId}` },
      );
      if (done) return run;
      // A final row gets its carbon receipt last, just before the workflow completes: wait for that too.
      await temporal.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined);
      return (await select()) ?? run;
    },
    async stop() {
      await bridge?.stop();
      // A test may already have shut a worker down (a node dying mid-run); that is not an error here.
      for (const worker of [orchestrator, ...nodes]) {
        try {
          worker.shutdown();
        } catch {
          /* already stopped */
        }
      }
      await Promise.allSettled([orchestratorRun, ...running]);
      await connection.close();
      await clientConnection.close();
      await database.close();
      await fresh.drop();
    },
  };
}

function isFinal(run: RunRow): boolean {
  return ['completed', 'failed', 'rejected'].includes(run.state);
}

/** Config keys a test overrides for one node (e.g. its region), parsed like the environment. */
function loadConfigPartial(env: Record<string, string>): Partial<Config> {
  const full = loadConfig(env);
  return Object.fromEntries(Object.keys(env).map((key) => [key, full[key as keyof Config]]));
}
