import type Docker from 'dockerode';
import type { AutograderExecution, AutograderJob, ExecutionControl } from '../executor.js';
import { CappedBuffer } from './capped-buffer.js';
import { containerCpuMs } from './container-cpu.js';
import { hostCgroupOomKills } from './host-cgroup.js';
import { graderHostConfig, type GraderSandbox } from './grader-sandbox.js';
import type { GraderSlots } from './grader-slots.js';
import { PhaseHeartbeat } from './phase-heartbeat.js';
import { graderCommand } from './grader-command.js';
import { parseResultsTrailer, type ResultsFile } from './results-trailer.js';
import { FILL_STDIN, type FilledContainer, startFilled } from './start-filled.js';

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

/** A container whose kill the engine has not carried out within this long is a node fault, left to heartbeats. */
const KILL_GRACE_MS = 60_000;
/** The container's command exits as soon as it reads the done line; its last output arrives with its end. */
const END_GRACE_MS = 10_000;

/** An execution minus the image: what one container run tells. */
export type ContainerOutcome = Omit<AutograderExecution, 'imageTag' | 'imageBuildMs' | 'imageReadyAt'> & {
  outcome: 'completed' | 'timeout' | 'out-of-memory';
};

/**
 * Runs `run_autograder` once in a locked-down container and always removes the container. The container's own
 * command (graderCommand) fills /autograder, waits for the node's go, runs the grader, ends what it left behind
 * and prints a trailer with results.json, then waits until the node has read its CPU time from its cgroup (the
 * cgroup goes with the container) and exits with the grader's status: no `docker exec` at all. The grader's
 * output, the trailer and the container's end all come through the one attach and the one `wait`. Only the grader
 * itself holds one of the node's `slots`: a prefetched run fills its container while the slots are busy and
 * starts the instant one frees. No engine call is made while the grader runs: timeouts and heartbeats are timers.
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
  const output = new CappedBuffer(limits.outputMaxBytes);
  let filled: FilledContainer | undefined;
  try {
    beat.phase('preparing');
    filled = await startFilled(docker, container, job, output).catch((error: unknown) => {
      throw stop.reason() === 'aborted' ? (control.abortSignal.reason ?? error) : error;
    });
    const { exited } = filled;
    if (stop.reason() === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');

    if (slots.inUse >= slots.size) beat.phase('waiting for a slot');
    const leaveSlot = await slots.enter(control.abortSignal);
    let cpuAtStop: Promise<number | null> = Promise.resolve(null);
    let graderDone = false;
    const deadline = setTimeout(() => {
      // Read before the kill: a stopped container's CPU account is gone.
      cpuAtStop = containerCpuMs(container).catch(() => null);
      void cpuAtStop.then(() => (graderDone ? undefined : stop('timeout')));
    }, limits.timeoutSec * 1000);
    const startedAt = new Date();
    let ended: { trailer: string; cpuTimeMs: number | null; oomKills: number | null } | null;
    let finishedAt: Date;
    try {
      beat.phase('running', limits.timeoutSec * 1000 + KILL_GRACE_MS);
      filled.go();
      ended = await Promise.race([
        filled.trailer.then(async (trailer) => ({
          trailer,
          cpuTimeMs: await containerCpuMs(container).catch(() => null),
          // Every process of the grader has ended by its trailer: no OOM kill can come after this reading.
          oomKills: hostCgroupOomKills(container.id),
        })),
        exited.then(() => null),
      ]);
      finishedAt = new Date();
    } finally {
      graderDone = true;
      clearTimeout(deadline);
      // The grader is done: the next run on this node starts now, while this one's figures are read.
      leaveSlot();
    }
    beat.phase('reading results', KILL_GRACE_MS * 2);
    if (ended) filled.done();
    // After the done line the command exits at once: a container still running is a grader that printed the
    // trailer itself, now holding no slot and no time limit, so it ends here.
    const lingered = ended !== null && !(await settlesWithin(exited, END_GRACE_MS));
    if (lingered) await container.kill().catch(() => undefined);
    const { StatusCode } = await exited;
    const exitedAt = new Date();
    await filled.drained(END_GRACE_MS);
    if (stop.reason() === 'aborted') throw control.abortSignal.reason ?? new Error('grading run cancelled');
    if (stop.reason() === 'timeout') {
      const cpuTimeMs = await cpuAtStop;
      return { ...empty(output), outcome: 'timeout', exitCode: null, startedAt, finishedAt, cpuTimeMs };
    }
    const oomKilled = (await wasOomKilled(container, ended?.oomKills ?? null)) || StatusCode === 137;
    const times = { exitCode: StatusCode, startedAt, finishedAt };
    if (!ended) {
      // The container ended before its trailer: its shell was killed (out of memory, or by the grader, which would
      // so escape the CPU reading): the most its CPU limit allowed stands in.
      const cpuTimeMs = cpuCeilingMs(limits.nanoCpus, startedAt, exitedAt);
      return { ...empty(output), outcome: oomKilled ? 'out-of-memory' : 'completed', ...times, cpuTimeMs };
    }
    if (lingered || filled.forged()) {
      return { ...forgedTrailer(output, limits.nanoCpus, startedAt, exitedAt), ...times, outcome: 'completed' };
    }
    const results = parseResultsTrailer(ended.trailer, limits.resultsMaxBytes);
    return {
      outcome: oomKilled ? 'out-of-memory' : 'completed',
      ...times,
      cpuTimeMs: ended.cpuTimeMs,
      ...resultsFields(results, output, limits.resultsMaxBytes),
    };
  } finally {
    beat.stop();
    stop.dispose();
    filled?.close();
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
      Cmd: graderCommand(job.limits.resultsMaxBytes),
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

/**
 * Whether the kernel's OOM killer ended a process of the container: from the host's cgroup counter read at the
 * trailer where there was one, else from the engine (one more call, after the container stopped).
 */
async function wasOomKilled(container: Docker.Container, oomKillsAtTrailer: number | null): Promise<boolean> {
  if (oomKillsAtTrailer !== null) return oomKillsAtTrailer > 0;
  const state = await container.inspect();
  return state.State.OOMKilled;
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

/**
 * Results for a run whose output went on after the trailer: the grader printed it itself (it learned the nonce),
 * so neither the results nor the CPU time read at it count. CPU time is the most its CPU limit allowed.
 */
function forgedTrailer(output: CappedBuffer, nanoCpus: number, startedAt: Date, exitedAt: Date) {
  const refusal = "the grader printed the node's results trailer itself: results refused";
  return {
    ...empty(output),
    output: `${output.text()}\n[greengrader] ${refusal}\n`,
    resultsRefusal: refusal,
    cpuTimeMs: cpuCeilingMs(nanoCpus, startedAt, exitedAt),
  };
}

/** The most CPU time a container limited to `nanoCpus` can have used between two instants. */
function cpuCeilingMs(nanoCpus: number, from: Date, to: Date): number {
  return ((to.getTime() - from.getTime()) * nanoCpus) / 1e9;
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return await Promise.race([settled, late]).finally(() => clearTimeout(timer));
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
