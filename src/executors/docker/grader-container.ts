import type Docker from 'dockerode';
import type { AutograderExecution, AutograderJob, ExecutionControl } from '../executor.js';
import { CappedBuffer } from './capped-buffer.js';
import { parseChildCpuMs } from '../cpu-times.js';
import { submissionLayout } from '../submission-layout.js';
import { packTar, readFirstFileFromTar } from '../tar-archive.js';

export const NODE_LABEL = 'greengrader.node';
const RUN_LABEL = 'greengrader.run';

const TIMES_FILE = '/tmp/.greengrader-cpu-times';

/**
 * The shell is PID 1, so it reaps every process the grader leaves behind; `times` then reports the
 * CPU time of all of them, which the container's cgroup would lose once the container is gone.
 */
const WRAPPER = `cd /autograder && /autograder/run_autograder; code=$?; times > ${TIMES_FILE} 2>/dev/null; exit $code`;

/** An execution minus the image: what one container run tells. */
export type ContainerOutcome = Omit<AutograderExecution, 'imageTag' | 'imageBuildMs' | 'imageReadyAt'> & {
  outcome: 'completed' | 'timeout' | 'out-of-memory';
};

/** Runs `run_autograder` once in a locked-down container and always removes the container. */
export async function runGraderContainer(
  docker: Docker,
  imageTag: string,
  job: AutograderJob,
  nodeName: string,
  control: ExecutionControl,
): Promise<ContainerOutcome> {
  const { limits } = job;
  const container = await docker.createContainer({
    Image: imageTag,
    Cmd: ['/bin/sh', '-c', WRAPPER],
    WorkingDir: '/autograder',
    Labels: { [NODE_LABEL]: nodeName, [RUN_LABEL]: job.runId },
    NetworkDisabled: true,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      NetworkMode: 'none', // a grader never needs the network; students must not reach anything
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes, // equal to Memory: no swap, so the memory limit is real
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pidsLimit, // stops fork bombs
      CapDrop: ['ALL'], // root in the container keeps no kernel privileges
      SecurityOpt: ['no-new-privileges'], // setuid binaries cannot regain them
      LogConfig: { Type: 'none', Config: {} }, // we read the output ourselves, capped; no log files to fill the disk
    },
  });
  const cpuSampler = new CpuSampler(container);
  try {
    await container.putArchive(await packTar(submissionLayout(job)), { path: '/autograder' });
    const output = new CappedBuffer(limits.outputMaxBytes);
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    docker.modem.demuxStream(stream, output, output);

    // 'next-exit': a created container is "not running" yet, so the default condition returns at once.
    const exited = container.wait({ condition: 'next-exit' });
    await container.start();
    const outcome = await waitForExit(container, exited, limits.timeoutSec, control, cpuSampler);
    const state = (await container.inspect()).State;
    (stream as unknown as { destroy(): void }).destroy();
    const results = await readFile(container, '/autograder/results/results.json', limits.resultsMaxBytes);
    const times = await readFile(container, TIMES_FILE, 4096);
    const cpuTimeMs = parseChildCpuMs(times?.text) ?? cpuSampler.lastMs;
    const oomKilled = state.OOMKilled;
    return {
      outcome: outcome === 'timeout' ? 'timeout' : oomKilled ? 'out-of-memory' : 'completed',
      exitCode: outcome === 'timeout' ? null : state.ExitCode,
      startedAt: dockerDate(state.StartedAt),
      finishedAt: dockerDate(state.FinishedAt),
      cpuTimeMs,
      output: output.text(),
      outputTruncated: output.truncated,
      resultsJson: results?.text ?? null,
      resultsTruncated: results?.truncated ?? false,
    };
  } finally {
    cpuSampler.stop();
    // Removal is retried once: a container must not outlive its run. Leftovers are swept at node start.
    await container.remove({ force: true }).catch(() => container.remove({ force: true }).catch(() => undefined));
  }
}

async function waitForExit(
  container: Docker.Container,
  exited: Promise<unknown>,
  timeoutSec: number,
  control: ExecutionControl,
  sampler: CpuSampler,
): Promise<'exited' | 'timeout' | 'aborted'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutSec * 1000);
  });
  const aborted = new Promise<'aborted'>((resolve) => {
    if (control.abortSignal.aborted) resolve('aborted');
    control.abortSignal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const beat = setInterval(() => {
    control.heartbeat('running');
    sampler.sample();
  }, 2000);
  try {
    const first = await Promise.race([exited.then(() => 'exited' as const), timedOut, aborted]);
    if (first !== 'exited') {
      await container.kill().catch(() => undefined);
      await exited.catch(() => undefined);
    }
    if (first === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');
    return first;
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
  }
}

async function readFile(
  container: Docker.Container,
  path: string,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean } | null> {
  try {
    const archive = await container.getArchive({ path });
    const file = await readFirstFileFromTar(archive, maxBytes);
    return file ? { text: file.bytes.toString('utf8'), truncated: file.truncated } : null;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

function dockerDate(value: string | undefined): Date | null {
  if (!value || value.startsWith('0001-')) return null;
  return new Date(value);
}

/** Fallback CPU figure for a run killed before its shell could report: the cgroup's last reading. */
class CpuSampler {
  lastMs: number | null = null;
  private stopped = false;
  constructor(private readonly container: Docker.Container) {}

  sample(): void {
    if (this.stopped) return;
    this.container.stats({ stream: false }).then(
      (stats) => {
        const ns = stats.cpu_stats?.cpu_usage?.total_usage;
        if (typeof ns === 'number' && ns > 0) this.lastMs = ns / 1e6;
      },
      () => undefined,
    );
  }

  stop(): void {
    this.stopped = true;
  }
}
