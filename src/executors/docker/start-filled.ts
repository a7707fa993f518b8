import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import type { AutograderJob } from '../executor.js';
import { NonRetryableExecutorError } from '../executor-error.js';
import { submissionLayout } from '../submission-layout.js';
import { packTar } from '../tar-archive.js';
import { CappedBuffer } from './capped-buffer.js';
import { PRISTINE_AUTOGRADER } from './grader-sandbox.js';

/** Thrown when the assignment's own files do not fit in the grader's disk cap: every node would fail the same. */
class SandboxSetupError extends NonRetryableExecutorError {
  override name = 'SandboxSetupError';
  readonly type = 'SandboxSetupFailed';
}

/** Printed by the container's own command once /autograder is filled, before it idles. */
const READY_LINE = 'greengrader: autograder filled';
/** Copying the assignment and unpacking a submission takes seconds; an engine that hangs here is a node fault. */
const FILL_TIMEOUT_MS = 300_000;

/**
 * The container's command: copy the image's pristine /autograder into the capped tmpfs, unpack the submission
 * (a tar on stdin) over it, say so, then idle under docker-init. Nothing untrusted has run when the line is
 * printed, so it cannot be forged; the grader runs later, as an exec of its own.
 */
export const FILL_THEN_IDLE = [
  '/bin/sh',
  '-c',
  `cp -a ${PRISTINE_AUTOGRADER}/. /autograder/ && tar -x -f - -C /autograder && echo '${READY_LINE}' && exec sleep infinity`,
];

/** Container settings the fill needs: stdin open for the tar, closed by the engine once it is sent. */
export const FILL_STDIN = { AttachStdin: true, OpenStdin: true, StdinOnce: true } as const;

/**
 * Starts a container created with FILL_THEN_IDLE and FILL_STDIN, feeds it the job's files and resolves once they
 * are in place, with the container's one `wait` (it settles when the container stops, for whatever reason).
 * Filling as the container's own command instead of an exec saves a process launch in the container per run.
 * Throws SandboxSetupError when the command failed (the files do not fit), which is also what a kill by the caller
 * looks like: the caller tells the two apart by why it killed.
 */
export async function startFilled(
  docker: Docker,
  container: Docker.Container,
  job: AutograderJob,
): Promise<{ exited: Promise<{ StatusCode: number }> }> {
  const tar = await packTar(submissionLayout(job));
  const stream = (await container.attach({
    stream: true,
    hijack: true,
    stdin: true,
    stdout: true,
    stderr: true,
  })) as NodeJS.ReadWriteStream & { destroy(): void };
  try {
    const log = new CappedBuffer(4096);
    const ready = new LineWatch(READY_LINE, log);
    docker.modem.demuxStream(stream, ready, log);
    await container.start();
    // `not-running` answers at once for a container that already stopped, so the wait cannot miss a quick exit.
    const exited = container.wait({ condition: 'not-running' }) as Promise<{ StatusCode: number }>;
    exited.catch(() => undefined); // awaited below and by every later step; never left unhandled after removal
    stream.end(tar);
    let timer: NodeJS.Timeout | undefined;
    const filled = await Promise.race([
      ready.seen.then(() => true),
      exited.then(() => false),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('filling /autograder took over 300 s')), FILL_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!filled) {
      throw new SandboxSetupError(`could not place the assignment and submission in /autograder: ${log.text().trim()}`);
    }
    return { exited };
  } finally {
    stream.destroy();
  }
}

/** A stdout sink that resolves `seen` at the first occurrence of `line`, passing all it gets on to `log`. */
class LineWatch extends Writable {
  private text = '';
  private found!: () => void;
  readonly seen = new Promise<void>((resolve) => (this.found = resolve));

  constructor(
    private readonly line: string,
    private readonly log: Writable,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.log.write(chunk);
    // Only the tail can complete a line split across chunks; what came before cannot match any more.
    this.text = (this.text + chunk.toString('utf8')).slice(-(this.line.length * 2));
    if (this.text.includes(this.line)) this.found();
    callback();
  }
}
