import { readFileSync } from 'node:fs';

/** Where the host mounts its cgroup hierarchies. */
export const HOST_CGROUP_ROOT = '/sys/fs/cgroup';

/** One place the engine may have put a container's CPU counter, and how to read it. */
interface CounterLayout {
  path(root: string, containerId: string): string;
  /** The counter's value in ms, or null when the text holds none. */
  parseMs(text: string): number | null;
}

/** cgroup v1 `cpuacct.usage`: one number, in ns. */
function v1Usage(text: string): number | null {
  const ns = Number(text.trim());
  return Number.isFinite(ns) ? ns / 1e6 : null;
}

/** cgroup v2 `cpu.stat`: the `usage_usec` line, in µs. */
function v2Usage(text: string): number | null {
  const usec = /^usage_usec (\d+)$/m.exec(text)?.[1];
  return usec === undefined ? null : Number(usec) / 1000;
}

/**
 * Docker's own layouts: the cgroupfs driver puts a container under `docker/<id>`, the systemd driver under
 * `system.slice/docker-<id>.scope`; on cgroup v1 the cpuacct controller is mounted alone or with cpu.
 */
const LAYOUTS: CounterLayout[] = [
  { path: (root, id) => `${root}/cpuacct/docker/${id}/cpuacct.usage`, parseMs: v1Usage },
  { path: (root, id) => `${root}/cpu,cpuacct/docker/${id}/cpuacct.usage`, parseMs: v1Usage },
  { path: (root, id) => `${root}/cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`, parseMs: v1Usage },
  { path: (root, id) => `${root}/cpu,cpuacct/system.slice/docker-${id}.scope/cpuacct.usage`, parseMs: v1Usage },
  { path: (root, id) => `${root}/docker/${id}/cpu.stat`, parseMs: v2Usage },
  { path: (root, id) => `${root}/system.slice/docker-${id}.scope/cpu.stat`, parseMs: v2Usage },
];

/** The layout that answered last: one engine keeps one layout, so later reads try it first. */
let lastLayout: CounterLayout | undefined;

/**
 * A running container's CPU time in ms, read from the host's cgroup files, or null when none of Docker's layouts
 * has a counter for it (a node in a container of its own, rootless Docker, a custom cgroup parent): the caller
 * then asks the engine. The path holds the full container id, so it names this container's cgroup and no other;
 * the file is on the host side, out of the grader's reach. A synchronous read: the kernel makes the text in memory.
 */
export function hostCgroupCpuMs(containerId: string, root: string = HOST_CGROUP_ROOT): number | null {
  if (!/^[0-9a-f]{64}$/.test(containerId)) return null;
  const layouts = lastLayout ? [lastLayout, ...LAYOUTS.filter((layout) => layout !== lastLayout)] : LAYOUTS;
  for (const layout of layouts) {
    let text: string;
    try {
      text = readFileSync(layout.path(root, containerId), 'utf8');
    } catch {
      continue;
    }
    const ms = layout.parseMs(text);
    if (ms === null) continue;
    lastLayout = layout;
    return ms;
  }
  return null;
}
