import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TEMPORAL_STOP_GRACE_MS } from '../../services/temporal.js';
import { inspectProcessRecord, stopOrphan } from '../../services/stop-orphan.js';
import { CliError } from '../errors.js';
import { writeProgress } from '../output/write.js';

/** The services `up` starts as processes of their own, each recorded in GG_DATA_DIR/run/NAME.pid. */
const recordedServices = {
  postgres: { label: 'PostgreSQL', graceMs: 60_000 },
  temporal: { label: 'Temporal dev server', graceMs: TEMPORAL_STOP_GRACE_MS },
} as const;

export type RecordedService = keyof typeof recordedServices;

/** Where `up` records the service it started, so the next `up` can tell its own orphan from a stranger. */
export function pidFileOf(dataDir: string, service: RecordedService): string {
  return path.join(dataDir, 'run', `${service}.pid`);
}

/**
 * Stops what an earlier `up` on this data directory started and left running when it crashed (one progress
 * line each); stale pid files are ignored. Refuses to run beside another live `up` on the same data directory.
 */
export async function cleanUpOrphans(dataDir: string): Promise<void> {
  await mkdir(path.join(dataDir, 'run'), { recursive: true });
  for (const [service, { label, graceMs }] of Object.entries(recordedServices)) {
    const file = pidFileOf(dataDir, service as RecordedService);
    const state = await inspectProcessRecord(file);
    if (state.kind === 'owned') {
      throw new CliError(
        `another greengrader up (pid ${state.record.owner.pid}) is running with this data directory (${dataDir}); ` +
          'stop it first, or give this one its own GG_DATA_DIR',
      );
    }
    if (state.kind !== 'orphan') continue;
    const { pid } = state.record.service;
    writeProgress(`stopping the ${label} (pid ${pid}) left running by an earlier up that did not stop cleanly…`);
    await stopOrphan(file, state.record, graceMs);
  }
}
