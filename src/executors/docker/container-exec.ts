import { PassThrough, type Writable } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecOptions {
  /** Where stdout and stderr go; drained and dropped when absent. */
  output?: Writable;
}

/**
 * How often an exec whose output is still open is asked whether it ended. Its output closing is the signal, at no
 * cost; this poll is only the fallback for a process that closed its own stdout and stderr and kept running.
 */
const FALLBACK_POLL_MS = 2000;

/**
 * Runs a command inside a running container and resolves with its exit code once the process itself has exited,
 * or with null once the container has (`exited`: one `container.wait()` per container, shared by every exec).
 * The end is noticed when the output stream closes: the engine closes it when the process's last output writer is
 * gone, or at most 2 s after the process exited when background children of a grader keep stdout open. One exec
 * inspect then reads the exit code. No engine call is made while the command runs, however long it takes.
 */
export async function runInContainer(
  docker: Docker,
  container: Docker.Container,
  exited: Promise<unknown>,
  cmd: string[],
  options: ExecOptions = {},
): Promise<number | null> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream &
    NodeJS.EventEmitter & { destroy(): void };
  const sink = options.output ?? new PassThrough().resume();
  docker.modem.demuxStream(stream, sink, sink);
  const streamEnded = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  let containerGone = false;
  const containerExited = exited.then(
    () => (containerGone = true),
    () => (containerGone = true),
  );
  try {
    await Promise.race([streamEnded, containerExited]);
    for (;;) {
      if (containerGone) return null;
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      await Promise.race([containerExited, delay(FALLBACK_POLL_MS)]);
    }
  } finally {
    stream.destroy();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
