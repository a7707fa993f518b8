import path from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../../observability/logger.js';
import { parsePort } from '../arguments.js';
import { DEFAULT_UP_REGION } from '../up/carbon-region.js';
import { DEFAULT_UP_PORTS } from '../up/up-options.js';

interface UpFlags {
  region?: string;
  mqttHost: string;
  mqttPort: number;
  postgresPort: number;
  temporalPort: number;
  temporalUiPort: number;
}

/** Exit code after a second Ctrl-C: 128 + SIGINT, as a shell reports a process killed by it. */
const FORCED_EXIT_CODE = 130;

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .summary('run everything on this machine until Ctrl-C')
    .description(
      'run everything on this machine until Ctrl-C: PostgreSQL, an MQTT broker, Temporal with its Web UI, ' +
        'the orchestrator, a node worker, the bridge and the dashboard (on DASHBOARD_HOST:DASHBOARD_PORT). ' +
        'Services named by DATABASE_URL, MQTT_URL or TEMPORAL_ADDRESS are used instead of started. ' +
        'State is kept in GG_DATA_DIR (default .data).',
    )
    .option(
      '--region <region>',
      `region of this machine's node and the home of its receipts, from config/regions.json (default: NODE_REGION, else ${DEFAULT_UP_REGION})`,
    )
    .option(
      '--mqtt-host <host>',
      'interface of the embedded MQTT broker (0.0.0.0 to let Gradescope reach it)',
      '127.0.0.1',
    )
    .option('--mqtt-port <port>', 'port of the embedded MQTT broker', parsePort, DEFAULT_UP_PORTS.mqttPort)
    .option('--postgres-port <port>', 'port of the local database', parsePort, DEFAULT_UP_PORTS.postgresPort)
    .option('--temporal-port <port>', 'gRPC port of the Temporal dev server', parsePort, DEFAULT_UP_PORTS.temporalPort)
    .option('--temporal-ui-port <port>', 'port of the Temporal Web UI', parsePort, DEFAULT_UP_PORTS.temporalUiPort)
    .action(async (flags: UpFlags) => {
      // Loaded here, not at the top: Temporal's worker and the services weigh seconds at every other command's start.
      const [{ installTemporalLogging }, { runUp }] = await Promise.all([
        import('../../app/temporal-logging.js'),
        import('../up/run-up.js'),
      ]);
      const logger = createLogger({ process: 'up' });
      installTemporalLogging(logger);
      await runUp({ ...flags, dataDir: path.resolve(process.env.GG_DATA_DIR || '.data') }, logger, firstInterrupt());
    });
}

/**
 * Resolves on the first SIGINT or SIGTERM so `up` can stop everything in order; a second one exits at
 * once (services `up` started may then keep running; the next `up` finds them by their pid files and stops them).
 */
function firstInterrupt(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        process.stderr.write(`second ${signal}: exiting without stopping the services\n`);
        process.exit(FORCED_EXIT_CODE);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
