import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../observability/logger.js';
import { createNodeWorker } from '../../workers/node-worker.js';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker.js';
import { CliError, USAGE_EXIT_CODE } from '../errors.js';
import {
  connectWorkerConnection,
  installTemporalLogging,
  loadCarbonSetup,
  openDatabase,
  shutdownWorker,
  startProcessMetrics,
  untilSignal,
} from '../runtime.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker until SIGINT/SIGTERM: the orchestrator, a Docker node or a Kubernetes region')
    .option('--orchestrator', 'run workflows and the central activities (storage, placement, results)')
    .option('--node <name>', 'run graders in Docker on this machine as node NAME (task queue greengrader-node-NAME)')
    .option('--k8s-region <region>', 'run graders as pods in this Kubernetes region, as node k8s-REGION[.ZONE]')
    .option('--k8s-zone <zone>', 'with --k8s-region: pin the pods to this zone as well')
    .action(async (options: { orchestrator?: boolean; node?: string; k8sRegion?: string; k8sZone?: string }) => {
      const roles = [options.orchestrator, options.node !== undefined, options.k8sRegion !== undefined];
      if (roles.filter(Boolean).length !== 1) {
        throw new CliError(
          'worker needs exactly one of --orchestrator, --node NAME or --k8s-region REGION',
          USAGE_EXIT_CODE,
        );
      }
      if (options.k8sZone !== undefined && options.k8sRegion === undefined) {
        throw new CliError('--k8s-zone needs --k8s-region', USAGE_EXIT_CODE);
      }
      const kind = options.k8sRegion !== undefined ? 'kubernetes' : 'docker';
      const config = loadConfig({
        ...process.env,
        ...(options.node !== undefined ? { NODE_NAME: options.node } : {}),
        ...(options.k8sRegion !== undefined ? { K8S_REGION: options.k8sRegion, K8S_ZONE: options.k8sZone ?? '' } : {}),
      });
      const logger = createLogger({ process: options.orchestrator ? 'orchestrator' : 'node' });
      installTemporalLogging(logger);
      const database = await openDatabase(config);
      const metrics = await startProcessMetrics(config, logger);
      const connection = await connectWorkerConnection(config);
      const worker = options.orchestrator
        ? await createOrchestratorWorker({
            connection,
            db: database.db,
            config,
            ...(await loadCarbonSetup(config, logger)),
          })
        : await createNodeWorker({ connection, db: database.db, config, logger, kind });
      const running = worker.run();
      // A signal asks the worker to finish its current tasks; `running` settles once it has.
      void untilSignal().then(() => shutdownWorker(worker));
      await running;
      await connection.close();
      await metrics.stop();
      await database.close();
    });
}
