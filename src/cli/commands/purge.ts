import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { purgeExpired, type PurgeCounts } from '../../db/retention-purge.js';
import { withDatabase } from '../database.js';
import { writeJson, writeOut } from '../output/write.js';

/** `greengrader purge --json`. */
export interface PurgeOutput {
  dryRun: boolean;
  at: string;
  purged: PurgeCounts;
}

export function registerPurgeCommand(program: Command): void {
  program
    .command('purge')
    .description(
      'drop payload bytes and run output past their retention now (the orchestrator also does it every PURGE_INTERVAL_SEC)',
    )
    .option('--dry-run', 'count what is due without dropping anything')
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (options: { dryRun?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const now = new Date();
      const dryRun = options.dryRun === true;
      const purged = await withDatabase(config, (db) =>
        purgeExpired(db, { now, runOutputRetentionDays: config.RUN_OUTPUT_RETENTION_DAYS, dryRun }),
      );
      const output: PurgeOutput = { dryRun, at: now.toISOString(), purged };
      if (options.json) {
        writeJson(output);
        return;
      }
      const verb = dryRun ? 'would drop' : 'dropped';
      writeOut(
        `${verb}: ${purged.rawPayloads} original payload(s), ${purged.rejectedMessages} rejected message(s), ` +
          `output of ${purged.runOutputs} run(s)`,
      );
    });
}
