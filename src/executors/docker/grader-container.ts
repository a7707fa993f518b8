import type Docker from 'dockerode';
import type { AutograderExecution, AutograderJob, ExecutionControl } from '../executor.js';
import { CappedBuffer } from './capped-buffer.js';
import { containerCpuMs } from './container-cpu.js';
import { runInContainer } from './container-exec.js';
import { graderHostConfig, type GraderSandbox } from './grader-sandbox.js';
import type { GraderSlots } from './grader-slots.js';
import { PhaseHeartbeat } from './phase-heartbeat.js';
import { readResultsFile, type ResultsFile } from './results-file.js';
import { FILL_STDIN, FILL_THEN_IDLE, startFilled } from './start-filled.js';

export const NODE_LABEL = 'greengrader.node';
export const RUN_LABEL = 'greengrader.run';
/**
 * What a container is for. Containers inherit their image's labels, and an assignment image is a committed
 * build container, so only this label (set on each container) tells a build from a grader.
 */
export const PURPOSE_LABEL = 'greengrader.purpose';

/** Thrown when the engine no longer has the assignment image the node had built: build it again and retry. */
export class ImageGoneError extends Error {
  override name = 'ImageGoneError';
}

const RUN_AUTOGRADER = ['/bin/sh', '-c', 'cd /autograder && exec ./run_autograder'];

/** A container whose kill the engine has not carried out within this long is a node fault, left to heartbeats. */
const KILL_GRACE_MS = 60_000;

/** An execution minus the image: what one container run tells. */
export type ContainerOutcome = Omit<AutograderExecution, 'imageTag' | 'imageBuildMs' | 'imageReadyAt'> & {
  outcome: 'completed' | 'timeout' | 'out-of-memory';
};

/**
 * Runs `run_autograder` once in a locked-down container and always removes the container. The container's own
 * command fills /autograder, then idles (PID 1 is docker-init over `sleep`) while the node runs the grader in it
 * and then reads its CPU time from the engine and its results.json with a size check, one exec each. So the
 * container is still there when its figures are read, and nothing the grader writes decides them. Only the grader
 * itself holds one of the node's `slots`: a prefetched run prepares its container while the slots are busy and
 * starts the instant one frees. No engine call is made while the grader runs: its end is its output closing, the
 * container's end one `wait`, and timeouts and heartbeats are timers.
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
  const container = await createGraderContainer(docker, imageTag, job, nodeName, sandbox);
  const stop = stopper(container, control);
  const beat = new PhaseHeartbeat(control);
  try {
    beat.phase('preparing');
    const { exited } = await startFilled(docker, container, job).catch((error: unknown) => {
      throw stop.reason() === 'aborted' ? (control.abortSignal.reason ?? error) : error;
    });
    if (stop.reason() === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');

    if (slots.inUse >= slots.size) beat.phase('waiting for a slot');
    const leaveSlot = await slots.enter(control.abortSignal);
    const output = new CappedBuffer(limits.outputMaxBytes);
    let cpuAtStop: Promise<number | null> = Promise.resolve(null);
    const startedAt = new Date();
    let graderDone = false;
    const deadline = setTimeout(() => {
      // Read before the kill: a killed container's CPU account may be gone.
      cpuAtStop = containerCpuMs(container).catch(() => null);
      void cpuAtStop.then(() => (graderDone ? undefined : stop('timeout')));
    }, limits.timeoutSec * 1000);
    let exitCode: number | null;
    let finishedAt: Date;
    try {
      beat.phase('running', limits.timeoutSec * 1000 + KILL_GRACE_MS);
      exitCode = await runInContainer(docker, container, exited, RUN_AUTOGRADER, { output });
      finishedAt = new Date();
    } finally {
      graderDone = true;
      clearTimeout(deadline);
      // The grader is done: the next run on this node starts now, while this one's figures are read.
      leaveSlot();
    }
    if (stop.reason() === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');
    if (stop.reason() === 'timeout') {
      const cpuTimeMs = await cpuAtStop;
      return { ...empty(output), outcome: 'timeout', exitCode: null, startedAt, finishedAt, cpuTimeMs };
    }
    beat.phase('reading results', KILL_GRACE_MS * 2);
    const [cpuTimeMs, state] = await Promise.all([containerCpuMs(container), container.inspect()]);
    const oomKilled = state.State.OOMKilled || exitCode === 137;
    const results = await readResultsFile(docker, container, exited, limits.resultsMaxBytes);
    return {
      outcome: oomKilled ? 'out-of-memory' : 'completed',
      exitCode,
      startedAt,
      finishedAt,
      cpuTimeMs,
      ...resultsFields(results, output, limits.resultsMaxBytes),
    };
  } finally {
    beat.stop();
    stop.dispose();
    // Removal is retried once: a container must not outlive its run. Leftovers are swept at node start.
    await container.remove({ force: true }).catch(() => container.remove({ force: true }).catch(() => undefined));
  }
}

async function createGraderContainer(
  docker: Docker,
  imageTag: string,
  job: AutograderJob,
  nodeName: string,
  sandbox: GraderSandbox,
): Promise<Docker.Container> {
  try {
    return await docker.createContainer({
      Image: imageTag,
      Cmd: FILL_THEN_IDLE,
      ...FILL_STDIN,
      WorkingDir: '/autograder',
      Labels: { [NODE_LABEL]: nodeName, [RUN_LABEL]: job.runId, [PURPOSE_LABEL]: 'grader' },
      NetworkDisabled: true,
      HostConfig: graderHostConfig(job.limits, sandbox),
    });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new ImageGoneError(`the engine no longer has image ${imageTag}`, { cause: error });
    }
    throw error;
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
