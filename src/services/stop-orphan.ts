import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, readProcessRecord, type ProcessRecord } from './process-record.js';

/** What a pid file turned out to record. */
export type RecordedState =
  /** No file, an unreadable one, or a process that is gone or whose pid now belongs to something else. */
  | { kind: 'stale' }
  /** The service runs and so does the process that started it: not an orphan, leave it alone. */
  | { kind: 'owned'; record: ProcessRecord }
  /** The service runs but its starter is gone (crashed or killed): an orphan. */
  | { kind: 'orphan'; record: ProcessRecord };

export async function inspectProcessRecord(file: string): Promise<RecordedState> {
  const record = await readProcessRecord(file);
  if (record === null || !(await isRunning(record.service))) return { kind: 'stale' };
  return (await isRunning(record.owner)) ? { kind: 'owned', record } : { kind: 'orphan', record };
}

/**
 * Stops an orphan with its own clean-shutdown signal, then SIGKILL after `graceMs`, and removes its pid file.
 * Every signal goes to the recorded pid only after checking it is still that process.
 */
export async function stopOrphan(file: string, record: ProcessRecord, graceMs: number): Promise<void> {
  const { service } = record;
  signalUnlessGone(service.pid, record.stopSignal);
  const deadline = Date.now() + graceMs;
  while ((await isRunning(service)) && Date.now() < deadline) await sleep(100);
  if (await isRunning(service)) {
    process.kill(service.pid, 'SIGKILL');
    while (await isRunning(service)) await sleep(50);
  }
  await rm(file, { force: true });
}

function signalUnlessGone(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // ESRCH: it went away on its own meanwhile, which is what we wanted.
    if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
  }
}
