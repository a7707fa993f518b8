import type { Command } from 'commander';
import { untilSignal } from '../../app/until-signal.js';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../observability/logger.js';
import { CliError, USAGE_EXIT_CODE } from '../errors.js';

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
      const config = loadConfig({
        ...process.env,
        ...(options.node !== undefined ? { NODE_NAME: options.node } : {}),
        ...(options.k8sRegion !== undefined ? { K8S_REGION: options.k8sRegion, K8S_ZONE: options.k8sZone ?? '' } : {}),
      });
      // Loaded here, not at the top: Temporal's worker and the executors weigh seconds at every other command's start.
      const [{ startK8sRegionWorker, startNodeWorker }, { startOrchestrator }, { installTemporalLogging }] =
        await Promise.all([
          import('../../app/node-worker.js'),
          import('../../app/orchestrator.js'),
          import('../../app/temporal-logging.js'),
        ]);
      const logger = createLogger({ process: options.orchestrator ? 'orchestrator' : 'node' });
      installTemporalLogging(logger);
      const start = options.orchestrator
        ? startOrchestrator
        : options.k8sRegion !== undefined
          ? startK8sRegionWorker
          : startNodeWorker;
      const worker = await start(config, logger);
      // A signal asks the worker to finish its current tasks; `ended` settles once it has.
      void untilSignal().then(() => worker.stop());
      try {
        await worker.ended;
      } finally {
        await worker.stop();
      }
    });
}
