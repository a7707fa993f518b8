import type Docker from 'dockerode';
import type { AutograderExecution, AutograderJob, ExecutionControl } from '../executor.js';
import { NonRetryableExecutorError } from '../executor-error.js';
import { submissionLayout } from '../submission-layout.js';
import { packTar } from '../tar-archive.js';
import { CappedBuffer } from './capped-buffer.js';
import { containerCpuMs } from './container-cpu.js';
import { runInContainer } from './container-exec.js';
import { graderHostConfig, PRISTINE_AUTOGRADER, type GraderSandbox } from './grader-sandbox.js';
import type { GraderSlots } from './grader-slots.js';
import { readResultsFile, type ResultsFile } from './results-file.js';

export const NODE_LABEL = 'greengrader.node';
export const RUN_LABEL = 'greengrader.run';

/** Thrown when the assignment's own files do not fit in the grader's disk cap: every node would fail the same. */
class SandboxSetupError extends NonRetryableExecutorError {
  override name = 'SandboxSetupError';
  readonly type = 'SandboxSetupFailed';
}

/** An execution minus the image: what one container run tells. */
export type ContainerOutcome = Omit<AutograderExecution, 'imageTag' | 'imageBuildMs' | 'imageReadyAt'> & {
  outcome: 'completed' | 'timeout' | 'out-of-memory';
};

/**
 * Runs `run_autograder` once in a locked-down container and always removes the container. The container idles
 * (PID 1 is docker-init over `sleep`) while the node runs each step in it: fill /autograder, run the grader,
 * read its CPU time from the engine and its results.json with a size check. So the container is still there
 * when its figures are read, and nothing the grader writes decides them. Only the grader itself holds one of the
 * node's `slots`: a prefetched run prepares its container while the slots are busy and starts the instant one frees.
 */
export async function runGraderContainer(
  docker: Docker,
  imageTag: string,
  job: AutograderJob,
  nodeName: string,
  sandbox: GraderSandbox,
  slots: GraderSlots,
  control: ExecutionControl,
): Promise<ContainerOutcome> {
  const { limits } = job;
  const container = await docker.createContainer({
    Image: imageTag,
    Cmd: ['sleep', 'infinity'],
    WorkingDir: '/autograder',
    Labels: { [NODE_LABEL]: nodeName, [RUN_LABEL]: job.runId },
    NetworkDisabled: true,
    HostConfig: graderHostConfig(limits, sandbox),
  });
  const stop = stopper(container, control);
  try {
    await container.start();
    await fillAutograder(docker, container, job, control);
    if (stop.reason() === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');

    const leaveSlot = await waitForSlot(slots, control);
    const output = new CappedBuffer(limits.outputMaxBytes);
    const deadline = Date.now() + limits.timeoutSec * 1000;
    let cpuAtStop: number | null = null;
    const startedAt = new Date();
    let exitCode: number | null;
    let finishedAt: Date;
    try {
      control.heartbeat('running');
      exitCode = await runInContainer(docker, container, ['/bin/sh', '-c', 'cd /autograder && exec ./run_autograder'], {
        output,
        tickMs: 500,
        onTick: async () => {
          control.heartbeat('running');
          if (Date.now() < deadline) return;
          cpuAtStop = await containerCpuMs(container).catch(() => null);
          await stop('timeout');
        },
      });
      finishedAt = new Date();
    } finally {
      // The grader is done: the next run on this node starts now, while this one's figures are read.
      leaveSlot();
    }
    if (stop.reason() === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');
    if (stop.reason() === 'timeout') {
      return { ...empty(output), outcome: 'timeout', exitCode: null, startedAt, finishedAt, cpuTimeMs: cpuAtStop };
    }
    const cpuTimeMs = await containerCpuMs(container);
    const oomKilled = (await container.inspect()).State.OOMKilled || exitCode === 137;
    const results = await readResultsFile(docker, container, limits.resultsMaxBytes, () =>
      control.heartbeat('reading results'),
    );
    return {
      outcome: oomKilled ? 'out-of-memory' : 'completed',
      exitCode,
      startedAt,
      finishedAt,
      cpuTimeMs,
      ...resultsFields(results, output, limits.resultsMaxBytes),
    };
  } finally {
    stop.dispose();
    // Removal is retried once: a container must not outlive its run. Leftovers are swept at node start.
    await container.remove({ force: true }).catch(() => container.remove({ force: true }).catch(() => undefined));
  }
}

/** Waits for one of the node's grader slots, heartbeating so a long wait is not taken for a dead worker. */
async function waitForSlot(slots: GraderSlots, control: ExecutionControl): Promise<() => void> {
  if (slots.inUse < slots.size) return slots.enter(control.abortSignal);
  control.heartbeat('waiting for a slot');
  const beat = setInterval(() => control.heartbeat('waiting for a slot'), 5000);
  try {
    return await slots.enter(control.abortSignal);
  } finally {
    clearInterval(beat);
  }
}

/** Copies the image's pristine /autograder into the capped tmpfs, then unpacks the submission over it. */
async function fillAutograder(
  docker: Docker,
  container: Docker.Container,
  job: AutograderJob,
  control: ExecutionControl,
): Promise<void> {
  const log = new CappedBuffer(4096);
  const code = await runInContainer(
    docker,
    container,
    ['/bin/sh', '-c', `cp -a ${PRISTINE_AUTOGRADER}/. /autograder/ && tar -x -f - -C /autograder`],
    { stdin: await packTar(submissionLayout(job)), output: log, onTick: () => control.heartbeat('preparing') },
  );
  if (code !== 0) {
    throw new SandboxSetupError(`could not place the assignment and submission in /autograder: ${log.text().trim()}`);
  }
}

/** Kills the container once, for a timeout or a cancelled activity, and remembers why. */
function stopper(container: Docker.Container, control: ExecutionControl) {
  const state: { reason: 'timeout' | 'aborted' | null } = { reason: null };
  const stop = async (reason: 'timeout' | 'aborted'): Promise<void> => {
    if (state.reason) return;
    state.reason = reason;
    await container.kill().catch(() => undefined);
  };
  const onAbort = (): void => void stop('aborted');
  if (control.abortSignal.aborted) onAbort();
  control.abortSignal.addEventListener('abort', onAbort, { once: true });
  return Object.assign(stop, {
    reason: (): 'timeout' | 'aborted' | null => state.reason,
    dispose: () => control.abortSignal.removeEventListener('abort', onAbort),
  });
}

function empty(output: CappedBuffer) {
  return { output: output.text(), outputTruncated: output.truncated, resultsJson: null, resultsTruncated: false };
}

/** results.json as the run row keeps it; a refused file is noted in the output so the operator sees why. */
function resultsFields(results: ResultsFile, output: CappedBuffer, maxBytes: number) {
  const note = (line: string) => `${output.text()}\n[greengrader] ${line}\n`;
  switch (results.kind) {
    case 'absent':
      return empty(output);
    case 'not-a-file':
      return {
        ...empty(output),
        output: note('results.json is not a regular file: ignored'),
        resultsRefusal: 'results.json is not a regular file (a FIFO, device or symlink): refused unread',
      };
    case 'too-large':
      return {
        ...empty(output),
        output: note(`results.json is ${results.sizeBytes} bytes, over the ${maxBytes}-byte cap: refused unread`),
        resultsTruncated: true,
        resultsRefusal: `results.json is larger than ${maxBytes} bytes (${results.sizeBytes} bytes): refused unread`,
      };
    case 'read':
      return {
        output: output.text(),
        outputTruncated: output.truncated,
        resultsJson: results.text,
        resultsTruncated: results.truncated,
      };
  }
}
