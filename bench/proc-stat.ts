// Reads CPU times of processes and threads from Linux's /proc, for bench:batch's per-component breakdown.
// Synchronous reads: a /proc file is generated in memory, and one sample reads hundreds of them. Through
// fs/promises each is an open, fstat, read and close on the thread pool (~60 ms of CPU per sample of 400
// processes); read at once it is a few ms. The sampler runs in its own process (cpu-sampler-process.ts), so
// blocking its event loop blocks nobody.
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';

/** Clock ticks per second of /proc's times (USER_HZ): 100 on every Linux build this runs on. */
const TICKS_PER_SEC = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime of the task itself (children not included), in seconds. */
  cpuSec: number;
  /** cutime + cstime: CPU of its children that ended and were waited for, in seconds. */
  reapedChildrenCpuSec: number;
  /** Since boot, in ticks: with the pid, it names a process even after the pid is reused. */
  startTicks: number;
}

/** A /proc file's text, or null when its task is gone. */
function readProcFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** One /proc/<pid>/stat (or task/<tid>/stat) line; null when the task is gone. */
function readStat(path: string): ProcStat | null {
  const text = readProcFile(path);
  if (text === null) return null;
  // comm sits in parentheses and may itself hold spaces or ')': the fields follow the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: Number(fields[1]),
    cpuSec: (utime + stime) / TICKS_PER_SEC,
    reapedChildrenCpuSec: (cutime + cstime) / TICKS_PER_SEC,
    startTicks: Number(fields[19]),
  };
}

/** Every process on the machine right now. */
export function readAllProcesses(): ProcStat[] {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  return pids.map((pid) => readStat(`/proc/${pid}/stat`)).filter((stat): stat is ProcStat => stat !== null);
}

/** One process now; null when it is gone. */
export function readProcess(pid: number): ProcStat | null {
  return readStat(`/proc/${pid}/stat`);
}

/** The threads of one process (tid in `pid`, thread name in `comm`). */
export function readThreads(pid: number): ProcStat[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.map((tid) => readStat(`/proc/${pid}/task/${tid}/stat`)).filter((stat): stat is ProcStat => stat !== null);
}

/** The machine's CPU time since boot, in core-seconds, and the parts of it no process is charged with. */
export interface MachineCpu {
  /** All but idle and iowait. */
  busy: number;
  /** Interrupt handlers and softirqs (e.g. loopback network delivery): kernel work no process is charged with. */
  interrupts: number;
  /** Time the hypervisor ran something else while this VM had work: counted as busy, done by nobody here. */
  steal: number;
}

export function machineCpu(): MachineCpu {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = first
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SEC,
    interrupts: (irq + softirq) / TICKS_PER_SEC,
    steal: steal / TICKS_PER_SEC,
  };
}

/** Busy CPU time of the whole machine (all but idle and iowait), in core-seconds since boot. */
export function machineBusySec(): number {
  return machineCpu().busy;
}

/** The cgroup path of a process in the cpuacct (v1) or unified (v2) hierarchy; '' when it is gone. */
export function cpuCgroupOf(pid: number): string {
  const text = readProcFile(`/proc/${pid}/cgroup`) ?? '';
  const lines = text.split('\n');
  const line =
    lines.find((l) => /:(cpu,cpuacct|cpuacct|cpuacct,cpu|cpu):/.test(l)) ?? lines.find((l) => l.startsWith('0::'));
  return line?.split(':').slice(2).join(':') ?? '';
}

/** The process listening on a local TCP port (IPv4 or IPv6), by the socket's inode; null when none is found. */
export async function listenerOf(port: number): Promise<number | null> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; column 9 is the inode.
      if (cols[3] === '0A' && Number.parseInt(cols[1]?.split(':')[1] ?? '', 16) === port && cols[9]) {
        inodes.add(`socket:[${cols[9]}]`);
      }
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (inodes.has(target)) return Number(pid);
    }
  }
  return null;
}
