import { Command } from 'commander';
import { registerBridgeCommand } from './commands/bridge.js';
import { registerExpediteCommand } from './commands/expedite.js';
import { registerExportCommand } from './commands/export.js';
import { registerK8sRbacCommand } from './commands/k8s-rbac.js';
import { registerListCommand } from './commands/list.js';
import { registerNodesCommand } from './commands/nodes.js';
import { registerPurgeCommand } from './commands/purge.js';
import { registerQuarantineCommand } from './commands/quarantine.js';
import { registerReportCommand } from './commands/report.js';
import { registerRerunCommand } from './commands/rerun.js';
import { registerStatusCommand } from './commands/status.js';
import { registerSubmitCommand } from './commands/submit.js';
import { registerUpCommand } from './commands/up.js';
import { registerWorkerCommand } from './commands/worker.js';

/**
 * The `greengrader` command line. Usage errors throw a CommanderError (exitOverride) instead of exiting,
 * so the entry point alone decides exit codes; subcommands inherit that from `program.command()`.
 */
export function createProgram(): Command {
  const program = new Command('greengrader')
    .description('Carbon-aware re-grading of Gradescope autograder submissions')
    .exitOverride()
    .showHelpAfterError('(greengrader --help lists the commands; greengrader COMMAND --help explains one)')
    .addHelpText(
      'after',
      '\nSettings come from the environment (DATABASE_URL, TEMPORAL_ADDRESS, MQTT_URL, …): see README.md.\n' +
        '--json output shapes are documented in docs/cli.md.',
    );
  registerUpCommand(program);
  registerBridgeCommand(program);
  registerWorkerCommand(program);
  registerSubmitCommand(program);
  registerRerunCommand(program);
  registerExpediteCommand(program);
  registerExportCommand(program);
  registerStatusCommand(program);
  registerListCommand(program);
  registerNodesCommand(program);
  registerReportCommand(program);
  registerQuarantineCommand(program);
  registerPurgeCommand(program);
  registerK8sRbacCommand(program);
  return program;
}
