import type Docker from 'dockerode';

/**
 * The CPU time every process of a running container has used so far, in ms, from the engine's cgroup accounting
 * (cpuacct `usage` on cgroup v1, `cpu.stat usage_usec` on v2). Measured on the host side: nothing the grader
 * writes inside the container can change it. Null when the engine reports nothing (a container already gone).
 */
export async function containerCpuMs(container: Docker.Container): Promise<number | null> {
  // one-shot: a single reading instead of two a second apart (the engine's default for CPU percentages).
  const stats = await container.stats({ stream: false, 'one-shot': true } as { stream: false });
  const ns = stats.cpu_stats?.cpu_usage?.total_usage;
  return typeof ns === 'number' && ns > 0 ? ns / 1e6 : null;
}
