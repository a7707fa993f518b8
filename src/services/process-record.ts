import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessExit } from './spawn-logged.js';

/**
 * Enough to recognise a process later: a pid alone may since have been reused by something else, but a pid
 * with the same kernel start time is the same process.
 */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot; unique per pid at any moment. */
  startTime: string;
  /** The command line when recorded, for messages only. */
  command: string;
}

/** A service a launcher started, and who started it: a pid file's content. */
export interface ProcessRecord {
  service: ProcessIdentity;
  /** The process that started it (`up`): while that one lives, the service is not an orphan. */
  owner: ProcessIdentity;
  /** What asks the service to shut down cleanly. */
  stopSignal: NodeJS.Signals;
}

/** Reads who `pid` is now from /proc; null when no such process runs (Linux only, as is the rest of `up`). */
export async function identify(pid: number): Promise<ProcessIdentity | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself contain spaces or parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const startTime = fields[19];
    if (startTime === undefined || state === 'Z' || state === 'X') return null;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return { pid, startTime, command: cmdline.split('\0').filter(Boolean).join(' ') };
  } catch {
    return null;
  }
}

/** True while the recorded process still runs: same pid and same start time. */
export async function isRunning(recorded: ProcessIdentity): Promise<boolean> {
  const now = await identify(recorded.pid);
  return now !== null && now.startTime === recorded.startTime;
}

/** Records `pid` as a service this process started. */
export async function writeProcessRecord(file: string, pid: number, stopSignal: NodeJS.Signals): Promise<void> {
  const [service, owner] = await Promise.all([identify(pid), identify(process.pid)]);
  if (service === null || owner === null) return; // already gone: nothing to recognise later
  const record: ProcessRecord = { service, owner, stopSignal };
  await writeFile(file, `${JSON.stringify(record)}\n`);
}

/** The record in `file`, or null when there is none or it cannot be read (a torn write counts as none). */
export async function readProcessRecord(file: string): Promise<ProcessRecord | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ProcessRecord;
  } catch {
    return null;
  }
}

/** Removes `file` if it still records `pid`: a restarted service may already have written its own. */
export async function removeProcessRecord(file: string, pid: number): Promise<void> {
  const record = await readProcessRecord(file);
  if (record === null || record.service.pid === pid) await rm(file, { force: true });
}

/**
 * Resolves once a process that is not our child (a daemon such as PostgreSQL's postmaster) is gone; its exit
 * status is unknowable then. Polls until `signal` aborts.
 */
export async function watchUntilGone(
  recorded: ProcessIdentity,
  signal: AbortSignal,
  intervalMs = 1_000,
): Promise<ProcessExit | 'cancelled'> {
  while (!signal.aborted) {
    if (!(await isRunning(recorded))) return { code: null, signal: null };
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
  return 'cancelled';
}
