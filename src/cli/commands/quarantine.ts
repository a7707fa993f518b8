import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadRetentionKeyring } from '../../app/retention-keyring.js';
import { loadConfig } from '../../config/config.js';
import { formatTime } from '../../shared/format.js';
import { readKeptBytes, SealedBytesError } from '../../submission/sealed-bytes.js';
import { parsePositiveInt, parseSha256 } from '../arguments.js';
import { withDatabase } from '../database.js';
import { CliError } from '../errors.js';
import { renderTable } from '../output/table.js';
import { writeJson, writeOut, writeProgress } from '../output/write.js';
import {
  findKeptPayload,
  listQuarantined,
  whyNotKept,
  type QuarantinedPayload,
} from '../queries/quarantined-payloads.js';

const DEFAULT_LIMIT = 50;

/** `greengrader quarantine export --json`. */
export interface QuarantineExportOutput {
  sha256: string;
  file: string;
  sizeBytes: number;
  truncated: boolean;
  refusedBy: 'bridge' | 'storage' | 'retained';
}

export function registerQuarantineCommand(program: Command): void {
  const quarantine = program
    .command('quarantine')
    .description('inspect payloads refused by the bridge or by parsing, kept (sealed) until QUARANTINE_RETENTION_DAYS');
  quarantine
    .command('list')
    .description('list quarantined payloads and rejected messages, most recent first')
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIMIT})`, parsePositiveInt)
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (options: { limit?: number; json?: boolean }) => {
      const config = loadConfig();
      const list = await withDatabase(config, (db) => listQuarantined(db, options.limit ?? DEFAULT_LIMIT));
      if (options.json) writeJson({ payloads: list });
      else writeOut(list.length === 0 ? 'No quarantined payloads.' : renderList(list));
    });
  quarantine
    .command('export')
    .description('decrypt a quarantined payload (or an original kept under RAW_RETENTION_DAYS) into a file')
    .argument('<sha256>', 'the payload, as `quarantine list` shows it', parseSha256)
    .requiredOption('-o, --output <file>', 'where to write the bytes (created with mode 600)')
    .option('--force', 'overwrite the file if it exists')
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (sha256: string, options: { output: string; force?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const keyring = await loadRetentionKeyring(config);
      const kept = await withDatabase(config, async (db) => {
        const found = await findKeptPayload(db, sha256);
        if (found === null) throw new CliError(await whyNotKept(db, sha256));
        return found;
      });
      let bytes: Buffer;
      try {
        bytes = readKeptBytes(keyring, kept, kept.context);
      } catch (error) {
        if (!(error instanceof SealedBytesError)) throw error;
        throw new CliError(`cannot open payload ${sha256}: ${error.message}`, 1, { cause: error });
      }
      if (!kept.truncated && createHash('sha256').update(bytes).digest('hex') !== sha256) {
        throw new CliError(`payload ${sha256}: the kept bytes do not match their SHA-256; not written`);
      }
      await writeFile(options.output, bytes, { mode: 0o600, flag: options.force ? 'w' : 'wx' }).catch((error) => {
        if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
          throw new CliError(`${options.output} exists (--force overwrites it)`, 1, { cause: error });
        }
        throw error;
      });
      const output: QuarantineExportOutput = {
        sha256,
        file: options.output,
        sizeBytes: bytes.length,
        truncated: kept.truncated,
        refusedBy: kept.refusedBy,
      };
      if (options.json) writeJson(output);
      else writeOut(`wrote ${bytes.length} bytes of payload ${sha256} to ${options.output}`);
      if (kept.truncated) writeProgress('the message was oversized: only its first bytes were kept');
    });
}

function renderList(list: QuarantinedPayload[]): string {
  return renderTable(list, [
    { header: 'SHA256', cell: (p) => p.sha256 },
    { header: 'BY', cell: (p) => p.refusedBy },
    { header: 'CODE', cell: (p) => p.code },
    { header: 'SIZE', cell: (p) => String(p.sizeBytes), align: 'right' },
    { header: 'REFUSED', cell: (p) => formatTime(p.refusedAt) },
    { header: 'KEPT', cell: (p) => (p.kept === 'sealed' ? `sealed (${p.keyId})` : p.kept) },
    { header: 'PURGE AFTER', cell: (p) => formatTime(p.purgeAfter) },
  ]);
}
