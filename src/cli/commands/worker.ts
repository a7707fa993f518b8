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
    .description('run a worker until SIGINT/SIGTERM: the orchestrator, or a Docker node')
    .option('--orchestrator', 'run workflows and the central activities (storage, placement, results)')
    .option('--node <name>', 'run graders in Docker on this machine as node NAME (task queue greengrader-node-NAME)')
    .action(async (options: { orchestrator?: boolean; node?: string }) => {
      if (Boolean(options.orchestrator) === (options.node !== undefined)) {
        throw new CliError('worker needs exactly one of --orchestrator or --node NAME', USAGE_EXIT_CODE);
      }
      const config = loadConfig(options.node === undefined ? process.env : { ...process.env, NODE_NAME: options.node });
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
        : await createNodeWorker({ connection, db: database.db, config, logger });
      const running = worker.run();
      // A signal asks the worker to finish its current tasks; `running` settles once it has.
      void untilSignal().then(() => shutdownWorker(worker));
      await running;
      await connection.close();
      await metrics.stop();
      await database.close();
    });
}
