import type Docker from 'dockerode';
import { CappedBuffer } from './capped-buffer.js';

/** Resources one image build (setup.sh, as root) may use. */
export interface BuildLimits {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
}

/** Defaults of IMAGE_BUILD_MEMORY_BYTES, IMAGE_BUILD_NANO_CPUS and IMAGE_BUILD_PIDS_LIMIT. */
export const DEFAULT_BUILD_LIMITS: BuildLimits = { memoryBytes: 2 * 1024 ** 3, nanoCpus: 1e9, pidsLimit: 512 };

/** What a shell (bash, dash, busybox) prints when the kernel refuses it a process. */
const FORK_REFUSED = /\bfork: (?:retry: )?Resource temporarily unavailable|\bcan't fork|\bCannot fork/i;

function processLimitReason(limits: BuildLimits): string {
  return `setup.sh reached the image build's process limit of ${limits.pidsLimit} (a fork bomb?); raise IMAGE_BUILD_PIDS_LIMIT if it needs more`;
}

/** A setup run that failed, with why in one line and what setup.sh printed. */
export interface SetupFailure {
  reason: string;
  log: string;
}

const LOG_MAX_BYTES = 256 * 1024;

/**
 * Runs `script` as root in a container of `image` with the build's limits and network, then leaves the stopped
 * container for the caller to commit. `docker build` cannot cap processes (its API has no pids limit, and an
 * `nproc` ulimit binds nobody running as root), so the build step is a plain container, which takes every limit.
 */
export async function runSetupContainer(
  docker: Docker,
  container: Docker.Container,
  timeoutSec: number,
  limits: BuildLimits,
): Promise<SetupFailure | null> {
  const log = new CappedBuffer(LOG_MAX_BYTES);
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  docker.modem.demuxStream(stream, log, log);
  try {
    const exited = container.wait({ condition: 'next-exit' });
    await container.start();
    const stopped = await watchSetup(container, exited, timeoutSec, limits);
    if (stopped) {
      await container.kill().catch(() => undefined);
      await exited.catch(() => undefined);
      return { reason: stopped, log: log.text() };
    }
    // The twice-a-second sample can miss a bomb that dies out between two samples; the shell's own complaint cannot.
    if (FORK_REFUSED.test(log.text())) return { reason: processLimitReason(limits), log: log.text() };
    const state = (await container.inspect()).State;
    if (state.OOMKilled) {
      return {
        reason: `setup.sh exceeded the image build's memory limit of ${limits.memoryBytes} bytes`,
        log: log.text(),
      };
    }
    if (state.ExitCode !== 0)
      return { reason: `the image setup (setup.sh) failed with exit code ${state.ExitCode}`, log: log.text() };
    return null;
  } finally {
    (stream as unknown as { destroy(): void }).destroy();
  }
}

/**
 * Waits for the setup container to exit; returns why it must be stopped instead: the build timeout, or its process
 * count at the limit. A fork bomb need not make setup.sh fail (its parent may exit 0 while the children keep
 * forking), so reaching the limit is itself the failure, sampled from the engine twice a second.
 */
async function watchSetup(
  container: Docker.Container,
  exited: Promise<unknown>,
  timeoutSec: number,
  limits: BuildLimits,
): Promise<string | null> {
  const deadline = Date.now() + timeoutSec * 1000;
  let done = false;
  void exited.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    if (Date.now() >= deadline) return `setup.sh exceeded the ${timeoutSec} s image build limit`;
    const pids = await container.stats({ stream: false, 'one-shot': true } as { stream: false }).then(
      (stats) => stats.pids_stats?.current ?? 0,
      () => 0,
    );
    if (pids >= limits.pidsLimit) return processLimitReason(limits);
    await Promise.race([exited.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
  }
  return null;
}
