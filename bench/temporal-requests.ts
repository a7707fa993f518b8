// bench:batch's count of the requests the Temporal dev server answered over a burst, by operation (its own
// `service_requests` counter on /metrics): polls, workflow task completions, signals, heartbeats, describes. The dev
// server serves /metrics on a random port; it is found among the ports the server's process listens on.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { listenerOf } from './proc-stat.js';

/** Frontend requests in namespace `default` (the application's own), by operation. */
export type RequestCounts = Record<string, number>;

export interface TemporalRequests {
  /** Reads the counters now. */
  read(): Promise<RequestCounts>;
}

/** Finds the /metrics endpoint of the dev server listening on `grpcPort`; null when it has none. */
export async function temporalRequests(grpcPort: number): Promise<TemporalRequests | null> {
  const pid = await listenerOf(grpcPort);
  if (pid === null) return null;
  for (const port of await listeningPortsOf(pid)) {
    if (port === grpcPort) continue;
    const counts = await scrape(port).catch(() => null);
    if (counts !== null) return { read: () => scrape(port) };
  }
  return null;
}

/** The change of each counter between two reads (operations that did not move are left out). */
export function requestsBetween(before: RequestCounts, after: RequestCounts): RequestCounts {
  const delta: RequestCounts = {};
  for (const [operation, count] of Object.entries(after)) {
    const moved = count - (before[operation] ?? 0);
    if (moved > 0) delta[operation] = moved;
  }
  return delta;
}

/** One row per operation, busiest first, one column per scenario: requests per graded run. */
export function formatRequests(rows: { scenario: string; graded: number; requests: RequestCounts }[]): string {
  const total = new Map<string, number>();
  for (const row of rows) {
    for (const [op, count] of Object.entries(row.requests)) total.set(op, (total.get(op) ?? 0) + count);
  }
  const operations = [...total.entries()].sort((a, b) => b[1] - a[1]).map(([op]) => op);
  const headers = ['Temporal frontend requests per graded run', ...rows.map((r) => r.scenario)];
  const perRun = (row: (typeof rows)[number], op: string) =>
    row.graded === 0 ? '-' : ((row.requests[op] ?? 0) / row.graded).toFixed(2);
  const body = operations.map((op) => [op, ...rows.map((row) => perRun(row, op))]);
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), ...body.map(line)].join('\n');
}

async function scrape(port: number): Promise<RequestCounts> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`/metrics on ${port} answered ${response.status}`);
  const counts: RequestCounts = {};
  let found = false;
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('service_requests{')) continue;
    found = true;
    if (!line.includes('namespace="default"') || !line.includes('service_name="frontend"')) continue;
    const operation = /operation="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (operation !== undefined && Number.isFinite(value)) counts[operation] = (counts[operation] ?? 0) + value;
  }
  if (!found) throw new Error(`no service_requests on ${port}`);
  return counts;
}

/** TCP ports process `pid` listens on (its socket inodes matched against the kernel's LISTEN rows). */
async function listeningPortsOf(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; column 9 is the inode.
      if (cols[3] === '0A' && cols[9] !== undefined && inodes.has(cols[9])) {
        ports.push(Number.parseInt(cols[1]?.split(':')[1] ?? '', 16));
      }
    }
  }
  return ports;
}
