import type { Command } from 'commander';
import { untilSignal } from '../../app/until-signal.js';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../observability/logger.js';

export function registerBridgeCommand(program: Command): void {
  program
    .command('bridge')
    .description('receive submissions from MQTT and start their workflows (until SIGINT/SIGTERM)')
    .action(async () => {
      const config = loadConfig();
      // Loaded here, not at the top, so other commands do not pay for the bridge's Temporal client and MQTT.
      const { startBridgeProcess } = await import('../../app/bridge-process.js');
      const bridge = await startBridgeProcess(config, createLogger({ process: 'bridge' }));
      try {
        // Another bridge holding the session now ends this one with its error (exit status 1).
        await Promise.race([untilSignal(), bridge.sessionLost]);
      } finally {
        await bridge.stop();
      }
    });
}
