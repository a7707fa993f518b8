import type { Command } from 'commander';
import { startBridgeProcess } from '../../app/bridge-process.js';
import { untilSignal } from '../../app/until-signal.js';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../observability/logger.js';

export function registerBridgeCommand(program: Command): void {
  program
    .command('bridge')
    .description('receive submissions from MQTT and start their workflows (until SIGINT/SIGTERM)')
    .action(async () => {
      const config = loadConfig();
      const bridge = await startBridgeProcess(config, createLogger({ process: 'bridge' }));
      await untilSignal();
      await bridge.stop();
    });
}
