import type Docker from 'dockerode';
import { hostCgroupCpuMs } from './host-cgroup.js';

/**
 * The CPU time every process of a running container has used so far, in ms, from the kernel's cgroup accounting
 * (cpuacct `usage` on cgroup v1, `cpu.stat usage_usec` on v2). Measured on the host side: nothing the grader
 * writes inside the container can change it. Null when neither source has a figure (a container already gone).
 *
 * The host's cgroup file comes first. The engine's stats endpoint reads the same counter, but Docker 20.10 answers
 * even a one-shot read only at its next 1-s collection tick (0.64 s on average, with the run's slot held) and
 * spends ≈ 0.026 core-s of dockerd, containerd and shim on it (bench:lifecycle): the fallback, for nodes that cannot
 * see the host's cgroups.
 */
export async function containerCpuMs(container: Docker.Container): Promise<number | null> {
  const fromHost = hostCgroupCpuMs(container.id);
  if (fromHost !== null) return fromHost > 0 ? fromHost : null;
  return await engineCpuMs(container);
}

/** The engine's reading of the same counter. */
async function engineCpuMs(container: Docker.Container): Promise<number | null> {
  // one-shot: a single reading instead of two a second apart (the engine's default for CPU percentages).
  const stats = await container.stats({ stream: false, 'one-shot': true } as { stream: false });
  const ns = stats.cpu_stats?.cpu_usage?.total_usage;
  return typeof ns === 'number' && ns > 0 ? ns / 1e6 : null;
}
