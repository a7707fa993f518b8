import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../observability/logger.js';
import { runBridge } from '../run-bridge.js';
import { connectTemporalClient, openDatabase, startProcessMetrics, untilSignal } from '../runtime.js';

export function registerBridgeCommand(program: Command): void {
  program
    .command('bridge')
    .description('receive submissions from MQTT and start their workflows (until SIGINT/SIGTERM)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ process: 'bridge' });
      const database = await openDatabase(config);
      const metrics = await startProcessMetrics(config, logger);
      const temporal = await connectTemporalClient(config);
      const bridge = runBridge(config, database.db, temporal.client, logger);
      await untilSignal();
      await bridge.stop();
      await temporal.close();
      await metrics.stop();
      await database.close();
    });
}
