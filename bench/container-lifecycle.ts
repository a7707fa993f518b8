// bench:lifecycle — the CPU one grader container's lifecycle costs, per container runtime and per cut, before
// any of it goes into the product. Runs in a private dockerd (test/support/private-docker-engine.ts), so the machine's
// shared engine and the containers of other jobs are not touched, and the engine's every process is counted.
//   npm run bench:lifecycle [-- --containers=50 --round=10 --json]
// Variants are alternated in rounds of `--round` containers each, so drifting load on the shared machine falls
// on all of them alike; containers run one at a time, so the engine's CPU over a round is theirs.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { defaultBaseImage } from '../src/services/base-image.js';
import type { LifecycleVariant } from './lifecycle-run.js';
import { runLifecycle } from './lifecycle-run.js';
import { startPrivateEngine } from '../test/support/private-docker-engine.js';
import { machineBusySec, readAllProcesses, readProcess } from './proc-stat.js';
import { positiveInteger } from './flag-numbers.js';

// Unknown flags and malformed numbers are refused rather than run with a default.
const { values: args } = parseArgs({
  options: {
    containers: { type: 'string', default: '50' },
    round: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});
const containers = positiveInteger('containers', args.containers);
const round = positiveInteger('round', args.round);
const json = args.json;
const CRUN = '/usr/bin/crun';

// The node reads a grader's CPU time and OOM kills from the host's cgroup files; stats and inspect are its fallback.
const product = { init: true, stats: false, inspect: false, autoRemove: false };
const VARIANTS: LifecycleVariant[] = [
  { name: 'runc', runtime: 'runc', ...product },
  { name: 'crun (today)', runtime: 'crun', ...product },
  { name: 'crun, stats + inspect (before)', runtime: 'crun', ...product, stats: true, inspect: true },
  { name: 'crun, stats read', runtime: 'crun', ...product, stats: true },
  { name: 'crun, no init', runtime: 'crun', ...product, init: false },
  { name: 'crun, AutoRemove', runtime: 'crun', ...product, autoRemove: true },
  { name: 'runc, AutoRemove', runtime: 'runc', ...product, autoRemove: true },
  { name: 'crun, all cuts', runtime: 'crun', init: false, stats: false, inspect: false, autoRemove: true },
];

interface Totals {
  containers: number;
  wallSec: number;
  engineSec: number;
  dockerdSec: number;
  containerdSec: number;
  containerSec: number;
  clientSec: number;
  machineSec: number;
}

if (!existsSync(CRUN)) throw new Error(`${CRUN} is missing: apt-get install crun`);
const engine = await startPrivateEngine({ runtimes: { crun: CRUN }, images: [defaultBaseImage] });
try {
  const containerd = readAllProcesses().find((p) => p.ppid === engine.dockerdPid && p.comm === 'containerd');
  if (!containerd) throw new Error('the private dockerd started no containerd of its own');
  const cpuOf = (pid: number) => readProcess(pid)?.cpuSec ?? 0;
  const totals = new Map<string, Totals>(
    VARIANTS.map((v) => [
      v.name,
      {
        containers: 0,
        wallSec: 0,
        engineSec: 0,
        dockerdSec: 0,
        containerdSec: 0,
        containerSec: 0,
        clientSec: 0,
        machineSec: 0,
      },
    ]),
  );
  const load = loadavg()[0] ?? 0;
  // One warm-up container per variant: first-use costs (page cache, runtime binaries) are not a run's.
  for (const variant of VARIANTS) await runLifecycle(engine.docker, defaultBaseImage, variant);
  for (let done = 0; done < containers; done += round) {
    for (const variant of VARIANTS) {
      const count = Math.min(round, containers - done);
      const before = snapshot();
      for (let i = 0; i < count; i++) await runLifecycle(engine.docker, defaultBaseImage, variant);
      const after = snapshot();
      const total = totals.get(variant.name)!;
      total.containers += count;
      for (const key of Object.keys(before) as (keyof typeof before)[]) total[key] += after[key] - before[key];
    }
    if (!json) process.stderr.write(`[lifecycle] ${Math.min(done + round, containers)}/${containers} per variant\n`);
  }
  const rows = VARIANTS.map((v) => perContainer(v.name, totals.get(v.name)!));
  if (json) console.log(JSON.stringify({ containers, loadAverageAtStart: load, rows }, null, 2));
  else printTable(rows, load);

  function snapshot() {
    const client = process.cpuUsage();
    return {
      wallSec: performance.now() / 1000,
      engineSec: engine.engineCpuNs() / 1e9,
      dockerdSec: cpuOf(engine.dockerdPid),
      containerdSec: cpuOf(containerd!.pid),
      containerSec: engine.containersCpuNs() / 1e9,
      clientSec: (client.user + client.system) / 1e6,
      machineSec: machineBusySec(),
    };
  }
} finally {
  await engine.stop();
}

function perContainer(name: string, t: Totals) {
  const per = (sec: number) => sec / t.containers;
  const engineSec = per(t.engineSec);
  const dockerd = per(t.dockerdSec);
  const containerd = per(t.containerdSec);
  return {
    variant: name,
    containers: t.containers,
    dockerd,
    containerd,
    // The engine's cgroup minus its two daemons: the shims and every runtime process they ran.
    shimsAndRuntime: engineSec - dockerd - containerd,
    engine: engineSec,
    container: per(t.containerSec),
    client: per(t.clientSec),
    machine: per(t.machineSec),
    wall: per(t.wallSec),
  };
}

function printTable(rows: ReturnType<typeof perContainer>[], load: number): void {
  const headers = ['variant', 'n', 'dockerd', 'containerd', 'shims+runtime', 'engine', 'container', 'client (node)'];
  const table = [
    [...headers, 'machine busy', 'wall s'],
    ...rows.map((r) => [
      r.variant,
      String(r.containers),
      ...[r.dockerd, r.containerd, r.shimsAndRuntime, r.engine, r.container, r.client, r.machine].map((x) =>
        x.toFixed(4),
      ),
      r.wall.toFixed(3),
    ]),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  console.log(
    `bench:lifecycle: core-s per container (engine = dockerd + containerd + shims + runtime, from its cgroup; ` +
      `container = the containers' cgroups), ${rows[0]?.containers} per variant, alternated; ` +
      `load average ${load.toFixed(2)} at the start`,
  );
  for (const row of table) {
    console.log(
      row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  '),
    );
  }
}
