// A dockerd of a test's or bench's own (socket, data-root, exec-root, bridge), with the OCI runtimes it asks
// for: the machine's shared engine, which other jobs' tests use, is neither restarted nor reconfigured. It starts
// inside a cpuacct cgroup of its own, so everything the engine side spends on containers (dockerd, its
// containerd, the shims and every runc or crun they run, however short-lived) adds up in one counter.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { requireExecutable } from '../../src/services/find-executable.js';
import { spawnLogged, stopProcess } from '../../src/services/spawn-logged.js';
import { waitUntilReady } from '../../src/services/wait-until-ready.js';

const CPUACCT = '/sys/fs/cgroup/cpuacct';

export interface PrivateEngine {
  docker: Docker;
  /** `unix://…`, for DOCKER_HOST. */
  host: string;
  /** Nanoseconds of CPU the engine side (dockerd, containerd, shims, runtimes) used so far. */
  engineCpuNs(): number;
  /** Nanoseconds of CPU every container of this engine used so far (removed ones included). */
  containersCpuNs(): number;
  dockerdPid: number;
  stop(): Promise<void>;
}

export interface PrivateEngineOptions {
  /** Runtimes to register besides runc: name → binary. */
  runtimes?: Record<string, string>;
  /** Images to copy in from the machine's engine. */
  images?: string[];
}

/** Starts the engine; needs root. Stop it in an `after`/`finally`: it removes its folders and cgroups. */
export async function startPrivateEngine(options: PrivateEngineOptions = {}): Promise<PrivateEngine> {
  const dockerd = await requireExecutable('dockerd', 'docker.io');
  const dockerCli = await requireExecutable('docker', 'docker.io');
  // Under /var/lib (ext4): overlay2 cannot stack on an overlay /tmp.
  const dir = await mkdtemp('/var/lib/gg-private-dockerd-');
  const name = path.basename(dir);
  const engineGroup = path.join(CPUACCT, name);
  const containerGroup = `/${name}-containers`;
  mkdirSync(engineGroup);
  mkdirSync(path.join(CPUACCT, containerGroup));
  const socket = path.join(dir, 'docker.sock');
  // A bridge of its own: dockerd started with `--bridge none` deletes docker0, the shared engine's default
  // network, and every later container or build on that engine fails. An address from the benchmarking range
  // (198.18.0.0/15), which no engine's default pools hand out.
  const ip = await requireExecutable('ip', 'iproute2');
  const bridge = `ggp${randomBytes(5).toString('hex')}`;
  execFileSync(ip, ['link', 'add', bridge, 'type', 'bridge']);
  execFileSync(ip, ['addr', 'add', `198.18.${String(randomInt(1, 255))}.1/24`, 'dev', bridge]);
  const args = [
    ...['--host', `unix://${socket}`, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec')],
    ...['--pidfile', path.join(dir, 'docker.pid'), '--bridge', bridge, '--iptables=false', '--ip-masq=false'],
    ...['--storage-driver', 'overlay2', '--cgroup-parent', containerGroup],
    ...Object.entries(options.runtimes ?? {}).flatMap(([runtime, binary]) => ['--add-runtime', `${runtime}=${binary}`]),
  ];
  const logFile = path.join(dir, 'dockerd.log');
  // The shell joins the cgroup, then becomes dockerd: every process the engine starts inherits the cgroup.
  const engine = spawnLogged(
    '/bin/sh',
    ['-c', `echo $$ > ${engineGroup}/cgroup.procs && exec "$0" "$@"`, dockerd, ...args],
    { logFile },
  );
  const docker = new Docker({ socketPath: socket });
  const stop = async (): Promise<void> => {
    await stopProcess(engine, { graceMs: 30_000 });
    for (const group of [engineGroup, path.join(CPUACCT, containerGroup)]) {
      try {
        rmdirSync(group);
      } catch {
        // a straggler still in it: the empty group costs nothing and its name says whose it was
      }
    }
    await rm(dir, { recursive: true, force: true });
    execFileSync(ip, ['link', 'del', bridge]);
  };
  try {
    await waitUntilReady({
      what: 'private dockerd',
      probe: () =>
        docker.ping().then(
          () => true,
          () => false,
        ),
      timeoutMs: 60_000,
      intervalMs: 100,
      logFile,
      exited: engine.exited,
    });
    for (const image of options.images ?? []) {
      execFileSync('/bin/sh', ['-c', `"$0" save "$1" | "$0" -H "unix://$2" load -q`, dockerCli, image, socket], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const usage = (group: string) => () => Number(readFileSync(path.join(CPUACCT, group, 'cpuacct.usage'), 'utf8'));
  return {
    docker,
    host: `unix://${socket}`,
    engineCpuNs: usage(name),
    containersCpuNs: usage(containerGroup),
    dockerdPid: engine.child.pid ?? 0,
    stop,
  };
}
