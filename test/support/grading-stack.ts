import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { startBridgeProcess, type RunningBridgeProcess } from '../../src/app/bridge-process.js';
import { loadCarbonSetup } from '../../src/app/carbon-setup.js';
import { CleanupStack } from '../../src/app/cleanup-stack.js';
import { startK8sRegionWorker, startNodeWorker, type RunningNode } from '../../src/app/node-worker.js';
import { startOrchestrator } from '../../src/app/orchestrator.js';
import { openSharedResources } from '../../src/app/resources.js';
import type { CarbonProvider } from '../../src/carbon/provider.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Database } from '../../src/db/client.js';
import { gradingRuns } from '../../src/db/schema.js';
import type { AutograderExecutor } from '../../src/executors/executor.js';
import { createLogger, silentLogger, type Logger } from '../../src/observability/logger.js';
import { createTemporalLogger } from '../../src/observability/temporal-logger.js';
import { workflowsPath } from '../../src/workers/orchestrator-worker.js';
import { kubernetesNodeName, type NodeKind } from '../../src/workers/node-worker.js';
import { createFreshDatabase } from './fresh-database.js';
import { requireEnv } from './env.js';
import { waitFor } from './wait-for.js';

/** Lines of Temporal's runtime logger (activity context loggers, worker lifecycle) as our JSON lines, for a test. */
export const temporalLogTaps = new Set<(line: string) => void>();
const warnings = new DefaultLogger('WARN');
const tapped = createTemporalLogger(
  createLogger({}, (line) => {
    for (const tap of temporalLogTaps) tap(line);
  }),
  'DEBUG',
);
// Worker state changes at INFO drown the test report; warnings and errors still show. Taps see every line.
Runtime.install({
  logger: new DefaultLogger('TRACE', (entry) => {
    if (temporalLogTaps.size > 0) tapped.log(entry.level, entry.message, entry.meta);
    warnings.log(entry.level, entry.message, entry.meta);
  }),
});

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
  /** Where the stack's components log; default nowhere. */
  logger?: Logger;
}

export interface GradingStack {
  config: Config;
  database: { db: Database };
  temporal: Client;
  bridge: RunningBridgeProcess | null;
  nodes: RunningNode[];
  /** Polls the run row of a workflow until `done` says so. */
  waitForRun(workflowId: string, done?: (run: RunRow) => boolean, timeoutMs?: number): Promise<RunRow>;
  startNode(
    env?: Record<string, string>,
    executor?: AutograderExecutor,
    options?: StartNodeOptions,
  ): Promise<RunningNode>;
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
    MQTT_PUBLISHER_USERNAME: requireEnv('MQTT_PUBLISHER_USERNAME'),
    MQTT_PUBLISHER_PASSWORD: requireEnv('MQTT_PUBLISHER_PASSWORD'),
    // Under submissions/, which the harness broker's ACL grants.
    MQTT_TOPIC: `submissions/${suffix}`,
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
    ANONYMISE_KEY: `grading-stack test key ${suffix}`,
    // The harness's choice (or a bench's, to compare runtimes); unset, the node picks as in production.
    GRADER_RUNTIME: process.env.GRADER_RUNTIME,
    ...options.env,
  });
  // Stops are registered as things start, so a stack that fails half-way leaves nothing behind either.
  const cleanup = new CleanupStack((what, error) => {
    process.stderr.write(`grading stack: stopping ${what} failed: ${String(error)}\n`);
  });
  cleanup.push('fresh database', () => fresh.drop());
  return cleanup.unwindOnFailure(async () => {
    const shared = await openSharedResources(config, cleanup);
    const { db, temporal } = shared;
    const logger = options.logger ?? silentLogger;
    const carbon = await loadCarbonSetup(config, logger, options.carbonProviders);
    // As in `up`: the stack's bridge (started by default) starts workflows eagerly through the shared connection.
    const eagerStartsFromLocalBridge = options.bridge !== false;
    const startOrchestratorWorker = async () =>
      startOrchestrator(config, logger, {
        ...{ shared, carbon, workflowBundle: await workflowBundle() },
        eagerStartsFromLocalBridge,
      });
    let orchestrator = await startOrchestratorWorker();
    const nodes: RunningNode[] = [];
    // Workers stop together, as a process shutdown stops them; a test may already have stopped one.
    cleanup.push('workers', async () => {
      await Promise.all([orchestrator, ...nodes].map((worker) => worker.stop()));
    });
    let nodeCount = 0;
    const startNode = async (
      env: Record<string, string> = {},
      executor?: AutograderExecutor,
      nodeOptions: StartNodeOptions = {},
    ) => {
      nodeCount += 1;
      const nodeConfig = { ...config, NODE_NAME: `${config.NODE_NAME}-${nodeCount}`, ...loadConfigPartial(env) };
      const kubernetes = nodeOptions.kind === 'kubernetes';
      const nodeName =
        nodeOptions.nodeName ??
        (kubernetes
          ? `${kubernetesNodeName(nodeConfig.K8S_REGION, nodeConfig.K8S_ZONE || undefined)}-${config.NODE_NAME}`
          : undefined);
      const start = kubernetes ? startK8sRegionWorker : startNodeWorker;
      const node = await start(nodeConfig, logger, { shared, executor, checkInIntervalMs: 1000, nodeName });
      nodes.push(node);
      return node;
    };
    for (let i = 0; i < (options.nodes ?? 1); i++) await startNode();
    // As in `up`: the orchestrator polls the bridge's queue on the shared connection, so starts may go eagerly.
    const bridgeOptions = { shared, localOrchestratorConnection: shared.connection };
    const bridge = options.bridge === false ? null : await startBridgeProcess(config, logger, bridgeOptions);
    if (bridge) {
      cleanup.push('bridge', () => bridge.stop());
      await bridge.ready;
    }

    return {
      config,
      database: { db },
      temporal,
      bridge,
      nodes,
      startNode,
      async restartOrchestrator() {
        await orchestrator.stop();
        orchestrator = await startOrchestratorWorker();
      },
      async waitForRun(workflowId, done, timeoutMs = 60_000) {
        const select = async () =>
          (await db.select().from(gradingRuns).where(eq(gradingRuns.workflowId, workflowId)))[0];
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
      stop: () => cleanup.runAll(),
    };
  });
}

function isFinal(run: RunRow): boolean {
  return ['completed', 'failed', 'rejected'].includes(run.state);
}

/** Config keys a test overrides for one node (e.g. its region), parsed like the environment. */
function loadConfigPartial(env: Record<string, string>): Partial<Config> {
  const full = loadConfig(env);
  return Object.fromEntries(Object.keys(env).map((key) => [key, full[key as keyof Config]]));
}
