import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../config/config.js';
import { submissions } from '../../db/schema.js';
import { readZipSafely } from '../../submission/index.js';
import { parseSha256, parseSubmissionId } from '../arguments.js';
import { withDatabase } from '../database.js';
import { CliError } from '../errors.js';
import { writeJson, writeOut, writeProgress } from '../output/write.js';
import { findStoredPayload } from '../queries/find-submission.js';

/** `greengrader export SUBMISSION_ID DIR --json`. */
export interface ExportOutput {
  gradescopeSubmissionId: number;
  payloadSha256: string;
  dir: string;
  /** Relative to `dir`, sorted. */
  files: string[];
  totalBytes: number;
  /** False only when the submission was stored with ANONYMISE=false. */
  anonymised: boolean;
}

interface ExportOptions {
  payload?: string;
  force?: boolean;
  json?: boolean;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("unpack a stored submission's (anonymised) tree into DIR for debugging")
    .argument('<submission-id>', "Gradescope's submission id (`id` in submission_metadata.json)", parseSubmissionId)
    .argument('<dir>', 'where to write the tree (hostname.txt, autograder/, gradescope/); created if missing')
    .option('--payload <sha256>', 'which stored copy when Gradescope sent the submission more than once', parseSha256)
    .option('--force', 'write into a non-empty DIR, overwriting files of the same name')
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (submissionId: number, dir: string, options: ExportOptions) => {
      const config = loadConfig();
      const target = path.resolve(dir);
      await refuseNonEmpty(target, options.force === true);
      const stored = await withDatabase(config, async (db) => {
        const { payloadSha256, storedCopies } = await findStoredPayload(db, submissionId, options.payload);
        const [row] = await db
          .select({ zip: submissions.zip, anonymised: submissions.anonymised })
          .from(submissions)
          .where(eq(submissions.payloadSha256, payloadSha256));
        if (row === undefined) throw new CliError(`submission ${submissionId} vanished while exporting it`);
        return { payloadSha256, storedCopies, ...row };
      });
      if (stored.storedCopies > 1 && options.payload === undefined) {
        writeProgress(`submission ${submissionId} was stored ${stored.storedCopies} times; exporting the latest copy`);
      }
      // The stored zip was checked on the way in; reading it safely again costs little and trusts nothing.
      const entries = await readZipSafely(stored.zip, {
        maxEntries: config.MAX_ZIP_ENTRIES,
        maxUncompressedBytes: config.MAX_UNCOMPRESSED_BYTES,
      });
      let totalBytes = 0;
      for (const [name, content] of entries.files) {
        const file = path.resolve(target, name);
        if (!file.startsWith(`${target}${path.sep}`)) throw new CliError(`refusing to write ${name} outside ${target}`);
        await mkdir(path.dirname(file), { recursive: true });
        // Keep executables executable (run_autograder, setup.sh); the owner can always read and write.
        await writeFile(file, content, { mode: ((entries.modes.get(name) ?? 0o644) & 0o777) | 0o600 });
        totalBytes += content.length;
      }
      const output: ExportOutput = {
        gradescopeSubmissionId: submissionId,
        payloadSha256: stored.payloadSha256,
        dir: target,
        files: [...entries.files.keys()],
        totalBytes,
        anonymised: stored.anonymised,
      };
      if (options.json) {
        writeJson(output);
        return;
      }
      writeOut(
        `wrote ${output.files.length} files (${totalBytes} bytes) of submission ${submissionId} to ${target}` +
          (stored.anonymised ? ' (anonymised)' : ' (NOT anonymised: stored with ANONYMISE=false)'),
      );
    });
}

async function refuseNonEmpty(dir: string, force: boolean): Promise<void> {
  let existing: string[];
  try {
    existing = await readdir(dir);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new CliError(`${dir} exists and is not a directory`);
    throw error;
  }
  if (existing.length > 0 && !force) {
    throw new CliError(`${dir} is not empty (${existing.length} entries); pass --force to write into it anyway`);
  }
}
