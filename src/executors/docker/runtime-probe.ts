import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { packTar } from '../tar-archive.js';
import { graderHostConfig } from './grader-sandbox.js';
import type { GraderSandbox } from './grader-sandbox.js';

/**
 * An image of one small file: the probe needs no files of its own, since with `Init` the engine mounts its static
 * docker-init at /sbin/docker-init. So the probe pulls nothing and works offline, before any grader image exists.
 */
export const PROBE_IMAGE = 'greengrader/runtime-probe:empty';

/** Small limits of the kinds a grader gets, so a runtime that cannot apply one of them fails here, not on a run. */
const PROBE_LIMITS = {
  timeoutSec: 30,
  memoryBytes: 64 * 1024 * 1024,
  nanoCpus: 500_000_000,
  pidsLimit: 16,
  outputMaxBytes: 4096,
  resultsMaxBytes: 4096,
};
/** Starting a container takes well under a second; an engine this slow is not one to judge a runtime by. */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Runs one container under `runtime` with a grader's sandbox settings (read-only root, size-capped tmpfs,
 * memory, CPU and pids limits, no capabilities, docker-init) and throws, with the engine's own message, unless it
 * starts and exits 0. A registered runtime may still be unable to run containers on this host: crun refuses a
 * hybrid cgroup layout whose v2 hierarchy holds controllers, which runc accepts.
 */
export async function probeRuntime(docker: Docker, runtime: string, sandbox: GraderSandbox): Promise<void> {
  await ensureProbeImage(docker);
  const container = await docker.createContainer({
    Image: PROBE_IMAGE,
    // docker-init runs itself once more, which prints its version and exits 0.
    Cmd: ['/sbin/docker-init', '--version'],
    NetworkDisabled: true,
    Labels: { 'greengrader.purpose': 'runtime-probe' },
    HostConfig: { ...graderHostConfig(PROBE_LIMITS, { ...sandbox, diskLimitBytes: 1024 * 1024 }), Runtime: runtime },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    exited.catch(() => undefined); // a failed start below is the error to report
    await container.start();
    const { StatusCode } = await Promise.race([
      exited,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no exit within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    if (StatusCode !== 0) throw new Error(`the probe container exited with status ${StatusCode}`);
  } finally {
    clearTimeout(timer);
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Imports the probe image from a one-file tar unless the engine has it. */
async function ensureProbeImage(docker: Docker): Promise<void> {
  const present = await docker
    .getImage(PROBE_IMAGE)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (present) return;
  const [repo, tag] = PROBE_IMAGE.split(':');
  const tar = await packTar([{ path: 'probe', bytes: Buffer.from('greengrader runtime probe\n') }]);
  const progress = await docker.importImage(Readable.from([tar]), { repo, tag });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}
