// bench:batch's per-component CPU: core-seconds each part of the stack used over a scenario, sampled from /proc.
// Core-seconds per graded run hold up under other jobs' load, where makespans do not; compare changes by them.
import { readFile } from 'node:fs/promises';
import {
  cpuCgroupOf,
  listenerOf,
  machineCpu,
  type MachineCpu,
  readAllProcesses,
  readProcess,
  readThreads,
  type ProcStat,
} from './proc-stat.js';

/** The components, in the order the table prints them. */
export const COMPONENTS = [
  'grader containers (ideal)',
  'dockerd',
  'containerd',
  'containerd-shim (ours)',
  'temporal dev server',
  'temporal server (compose container)',
  "temporal's PostgreSQL (compose container)",
  'postgresql',
  'mosquitto',
  'GreenGrader: main JS thread',
  'GreenGrader: other Node threads',
  'GreenGrader: Temporal core (Rust)',
  'GreenGrader: V8 helpers (GC, JIT)',
  'GreenGrader: libuv pool',
  'mosquitto_pub (bench publisher)',
  'harness (tsx, with-services)',
  'bench CPU sampler (own process)',
  'unattributed (exited between samples)',
  'interrupts (irq, softirq)',
  'kernel threads',
  'hypervisor steal (the VM waited for the host)',
  'other (not this bench)',
] as const;
export type Component = (typeof COMPONENTS)[number];

/** Rows only a compose-served Temporal fills: left out of a table whose every column has them at 0. */
export const COMPOSE_ONLY: ReadonlySet<Component> = new Set([
  'temporal server (compose container)',
  "temporal's PostgreSQL (compose container)",
]);

/** What the stack costs besides the graders: the parts this bench starts or drives (the measuring itself not). */
const OVERHEAD: ReadonlySet<Component> = new Set(
  COMPONENTS.filter(
    (c) =>
      ![
        'grader containers (ideal)',
        'kernel threads',
        'hypervisor steal (the VM waited for the host)',
        'other (not this bench)',
        'bench CPU sampler (own process)',
      ].includes(c),
  ),
);

export interface CpuBreakdown {
  /** Seconds the scenario's window lasted. */
  wallSec: number;
  /** Busy core-seconds of the whole machine over the window. */
  machineBusySec: number;
  /** Core-seconds per component over the window. */
  coreSec: Record<Component, number>;
  /** The sum of the overhead components: everything this bench runs but the graders. */
  overheadCoreSec: number;
  /** Samples taken (one every `intervalMs`). */
  samples: number;
}

export interface SamplerOptions {
  /** The process running orchestrator, node workers and bridge (bench:batch itself; bench:ingest's bridge). */
  stackPid: number;
  /**
   * The process that runs one `mosquitto_pub` per message (itself or through an `xargs` child) and waits for each:
   * they live a few ms, mostly between two samples, so their CPU is read from its reaped children's times instead
   * (exact however short they lived).
   */
  publisherParentPid?: number;
  /** Ports the bench's own services listen on: each listener and its children are that service. */
  servicePorts: { temporal?: number; postgres?: number; mosquitto?: number };
  /** Containers whose `greengrader.node` label starts with this are the bench's graders. */
  nodeNamePrefix: string;
  /**
   * Containers of services the bench started itself (the compose Temporal server and its PostgreSQL), by
   * container id: no port on the host leads to their processes, so they are known by their cgroup instead.
   */
  serviceContainers?: Readonly<Record<string, Component>>;
  intervalMs?: number;
}

interface Tracked {
  component: Component | 'container (ours)';
  baselineSec: number;
  lastSec: number;
}

/** Samples /proc every `intervalMs` until stopped. A task that ends between samples loses its last interval. */
export class CpuSampler {
  private readonly tracked = new Map<string, Tracked>();
  private readonly containerOwner = new Map<string, boolean>();
  private readonly serviceRoots = new Map<number, Component>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();
  private samples = 0;
  private startedAt = 0;
  private machineAtStart: MachineCpu = { busy: 0, interrupts: 0, steal: 0 };
  private ownCpuAtStart = 0;
  private reapedAtStart = 0;

  constructor(private readonly options: SamplerOptions) {}

  async start(): Promise<void> {
    const { temporal, postgres, mosquitto } = this.options.servicePorts;
    for (const [port, component] of [
      [temporal, 'temporal dev server'],
      [postgres, 'postgresql'],
      [mosquitto, 'mosquitto'],
    ] as const) {
      const pid = port === undefined ? null : await listenerOf(port);
      if (pid !== null) this.serviceRoots.set(pid, component);
    }
    this.startedAt = Date.now();
    this.machineAtStart = machineCpu();
    this.ownCpuAtStart = ownCpuSec();
    this.reapedAtStart = this.reapedPublisherSec();
    await this.sample(true);
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample(false));
    }, this.options.intervalMs ?? 1000);
  }

  /** Takes a last sample and sums the window; `graderCpuSec` is the graders' own CPU, from the engine. */
  async stop(graderCpuSec: number): Promise<CpuBreakdown> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample(false);
    const machine = machineCpu();
    const busy = machine.busy - this.machineAtStart.busy;
    const interrupts = machine.interrupts - this.machineAtStart.interrupts;
    const steal = machine.steal - this.machineAtStart.steal;
    const own = ownCpuSec() - this.ownCpuAtStart;
    const coreSec = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
    let sampled = 0;
    for (const task of this.tracked.values()) {
      const used = Math.max(0, task.lastSec - task.baselineSec);
      sampled += used;
      // The graders' own processes are counted from the engine's cgroup figures instead (exact, per run).
      if (task.component !== 'container (ours)') coreSec[task.component] += used;
      else sampled -= used;
    }
    coreSec['grader containers (ideal)'] = graderCpuSec;
    coreSec['bench CPU sampler (own process)'] = own;
    const reaped = this.reapedPublisherSec() - this.reapedAtStart;
    coreSec['mosquitto_pub (bench publisher)'] += reaped;
    coreSec['interrupts (irq, softirq)'] = interrupts;
    coreSec['hypervisor steal (the VM waited for the host)'] = steal;
    coreSec['unattributed (exited between samples)'] = Math.max(
      0,
      busy - sampled - graderCpuSec - own - reaped - interrupts - steal,
    );
    const overheadCoreSec = COMPONENTS.filter((c) => OVERHEAD.has(c)).reduce((sum, c) => sum + coreSec[c], 0);
    return {
      wallSec: (Date.now() - this.startedAt) / 1000,
      machineBusySec: busy,
      coreSec,
      overheadCoreSec,
      samples: this.samples,
    };
  }

  private async sample(first: boolean): Promise<void> {
    this.samples += 1;
    const processes = readAllProcesses();
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    for (const proc of processes) {
      // The stack is counted by thread below; this sampler by its own figures (process.cpuUsage).
      if (proc.pid === this.options.stackPid || proc.pid === process.pid) continue;
      // Counted when reaped (reapedPublisherSec): sampling them too would count them twice.
      if (this.isPublisher(proc, byPid)) continue;
      const key = `p${proc.pid}:${proc.startTicks}`;
      if (!this.seen(key, proc.cpuSec)) this.add(key, proc.cpuSec, first, await this.classify(proc, byPid));
    }
    for (const thread of readThreads(this.options.stackPid)) {
      const key = `t${thread.pid}:${thread.startTicks}`;
      if (!this.seen(key, thread.cpuSec)) {
        this.add(key, thread.cpuSec, first, threadComponent(thread, this.options.stackPid));
      }
    }
  }

  /** A mosquitto_pub (or the xargs running them) below the publisher parent: counted once reaped. */
  private isPublisher(proc: ProcStat, byPid: Map<number, ProcStat>): boolean {
    if (proc.comm !== 'mosquitto_pub' && proc.comm !== 'xargs') return false;
    for (let at = byPid.get(proc.ppid), hops = 0; at && hops < 3; at = byPid.get(at.ppid), hops++) {
      if (at.pid === this.options.publisherParentPid) return true;
      if (at.comm !== 'xargs') return false;
    }
    return false;
  }

  /** CPU of the publisher parent's ended children so far (0 without one). */
  private reapedPublisherSec(): number {
    const parent = this.options.publisherParentPid;
    return parent === undefined ? 0 : (readProcess(parent)?.reapedChildrenCpuSec ?? 0);
  }

  /** Updates a task tracked already; false for one not seen before. */
  private seen(key: string, cpuSec: number): boolean {
    const known = this.tracked.get(key);
    if (known) known.lastSec = cpuSec;
    return known !== undefined;
  }

  private add(key: string, cpuSec: number, first: boolean, component: Tracked['component']): void {
    // A task there at the start counts from its value then; one born later counts from zero.
    this.tracked.set(key, { component, baselineSec: first ? cpuSec : 0, lastSec: cpuSec });
  }

  private async classify(proc: ProcStat, byPid: Map<number, ProcStat>): Promise<Tracked['component']> {
    if (proc.pid === 2 || proc.ppid === 2) return 'kernel threads';
    const ancestors: number[] = [];
    for (let at = byPid.get(proc.ppid); at && ancestors.length < 64; at = byPid.get(at.ppid)) ancestors.push(at.pid);
    for (const pid of [proc.pid, ...ancestors]) {
      const service = this.serviceRoots.get(pid);
      if (service) return service;
    }
    if (proc.comm === 'dockerd') return 'dockerd';
    if (proc.comm === 'containerd') return 'containerd';
    const services = this.options.serviceContainers ?? {};
    if (proc.comm.startsWith('containerd-shim')) {
      const id = await shimContainerId(proc.pid);
      if (id !== null && services[id]) return services[id];
      return id !== null && (await this.isOurs(id)) ? 'containerd-shim (ours)' : 'other (not this bench)';
    }
    const container = /\/docker\/([0-9a-f]{64})/.exec(cpuCgroupOf(proc.pid))?.[1];
    if (container && services[container]) return services[container];
    if (container) return (await this.isOurs(container)) ? 'container (ours)' : 'other (not this bench)';
    if (ancestors.includes(this.options.stackPid)) {
      return proc.comm === 'mosquitto_pub' ? 'mosquitto_pub (bench publisher)' : 'harness (tsx, with-services)';
    }
    // The tsx launcher and with-services above the bench process.
    const stack = byPid.get(this.options.stackPid);
    const harness = new Set<number>();
    for (let at = stack && byPid.get(stack.ppid); at && harness.size < 8; at = byPid.get(at.ppid)) {
      if (at.comm !== 'node' && at.comm !== 'tsx' && !at.comm.startsWith('npm')) break;
      harness.add(at.pid);
    }
    if (harness.has(proc.pid)) return 'harness (tsx, with-services)';
    return 'other (not this bench)';
  }

  /** Whether the container is one of this bench's graders, by its label in the engine's own config file. */
  private async isOurs(containerId: string): Promise<boolean> {
    const cached = this.containerOwner.get(containerId);
    if (cached !== undefined) return cached;
    const text = await readFile(`/var/lib/docker/containers/${containerId}/config.v2.json`, 'utf8').catch(() => '');
    const node = /"greengrader\.node":"([^"]*)"/.exec(text)?.[1];
    const ours = node !== undefined && node.startsWith(this.options.nodeNamePrefix);
    this.containerOwner.set(containerId, ours);
    return ours;
  }
}

/** This process's own CPU (all its threads), in seconds. */
function ownCpuSec(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function shimContainerId(pid: number): Promise<string | null> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  const at = args.indexOf('-id');
  return at === -1 ? null : (args[at + 1] ?? null);
}

/**
 * Node's and Temporal's thread names: the main thread carries the process's pid. Node 20 names every other
 * thread of its own `node` too: the workflow worker thread, but also V8's platform threads (concurrent and
 * parallel GC, compilation) and libuv's pool (file system, crypto, zlib). Profiles (`--cpu-prof`) split them.
 */
function threadComponent(thread: ProcStat, pid: number): Component {
  if (thread.pid === pid) return 'GreenGrader: main JS thread';
  if (thread.comm.startsWith('tokio') || thread.comm.startsWith('temporal')) return 'GreenGrader: Temporal core (Rust)';
  if (thread.comm.startsWith('V8') || thread.comm.startsWith('node_')) return 'GreenGrader: V8 helpers (GC, JIT)';
  if (thread.comm.startsWith('libuv')) return 'GreenGrader: libuv pool';
  return 'GreenGrader: other Node threads';
}

/** The breakdown as a table: core-seconds over the scenario and per graded run, one column per scenario. */
export function formatBreakdown(rows: { scenario: string; graded: number; breakdown: CpuBreakdown }[]): string {
  const headers = ['component (core-s per graded run)', ...rows.map((r) => r.scenario)];
  const perRun = (r: (typeof rows)[number], sec: number) => (r.graded === 0 ? '-' : (sec / r.graded).toFixed(3));
  const body = [
    ...COMPONENTS.filter((c) => !COMPOSE_ONLY.has(c) || rows.some((r) => r.breakdown.coreSec[c] > 0)).map((c) => [
      c,
      ...rows.map((r) => perRun(r, r.breakdown.coreSec[c])),
    ]),
    ['= stack overhead (all but graders, kernel, other)', ...rows.map((r) => perRun(r, r.breakdown.overheadCoreSec))],
    ['machine busy', ...rows.map((r) => perRun(r, r.breakdown.machineBusySec))],
    ['samples', ...rows.map((r) => String(r.breakdown.samples))],
  ];
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), ...body.map(line)].join('\n');
}
