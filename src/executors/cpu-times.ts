/**
 * Sums the children's user and system time from the second line of the shell's `times` ("0m1.25s 0m0.10s").
 * The Kubernetes executor runs the grader under a shell as PID 1, which reaps every process the grader leaves
 * behind, so this counts all of them. (The Docker executor reads the container's cgroup from the engine instead.)
 */
export function parseChildCpuMs(text: string | undefined): number | null {
  const line = text?.trim().split('\n')[1];
  if (!line) return null;
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length !== 2) return null;
  return parts.reduce((sum, [, min, sec]) => sum + (Number(min) * 60 + Number(sec)) * 1000, 0);
}
