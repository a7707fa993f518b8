#!/usr/bin/env -S npx tsx
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createOrchestratorWorker } from '../workers/orchestrator-worker.js';
import { createNodeWorker } from '../workers/node-worker.js';
import {
  connectTemporalClient,
  connectWorkerConnection,
  loadCarbonSetup,
  openDatabase,
  shutdownWorker,
  untilSignal,
} from './runtime.js';
import { runBridge } from './run-bridge.js';
import { up } from './up.js';

const usage = `usage: greengrader <command>
  up                        start everything on this machine (embedded defaults)
  bridge                    receive submissions from MQTT and start their workflows
  worker --orchestrator     run workflows and central activities
  worker --node NAME        run graders in Docker on this machine as node NAME`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const logger = createLogger({ process: command ?? 'greengrader' });
  switch (command) {
    case 'up':
      await up(logger);
      return 0;
    case 'bridge': {
      const config = loadConfig();
      const database = await openDatabase(config);
      const temporal = await connectTemporalClient(config);
      const bridge = runBridge(config, database.db, temporal.client, logger);
      await untilSignal();
      await bridge.stop();
      await temporal.close();
      await database.close();
      return 0;
    }
    case 'worker': {
      const { values } = parseArgs({
        args: rest,
        options: { orchestrator: { type: 'boolean' }, node: { type: 'string' } },
      });
      if (Boolean(values.orchestrator) === Boolean(values.node)) {
        process.stderr.write(`${usage}\n`);
        return 2;
      }
      const config = loadConfig(values.node ? { ...process.env, NODE_NAME: values.node } : process.env);
      const database = await openDatabase(config);
      const connection = await connectWorkerConnection(config);
      const worker = values.orchestrator
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
      await database.close();
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return command === undefined || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`greengrader: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
