import { PassThrough, type Writable } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecOptions {
  /** Bytes fed to the command's stdin, then closed. */
  stdin?: Buffer;
  /** Where stdout and stderr go; drained and dropped when absent. */
  output?: Writable;
  /** Called about every `tickMs` while the command runs (heartbeats, deadlines). */
  onTick?: () => void | Promise<void>;
  tickMs?: number;
}

/**
 * Runs a command inside a running container and resolves with its exit code once the process itself has exited.
 * The end is read from the engine (exec inspect), not from the output stream: a grader's background children may
 * keep stdout open long after `run_autograder` returned. Rejects when the container dies first.
 */
export async function runInContainer(
  docker: Docker,
  container: Docker.Container,
  cmd: string[],
  options: ExecOptions = {},
): Promise<number | null> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdin: options.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: options.stdin !== undefined })) as NodeJS.ReadWriteStream &
    NodeJS.EventEmitter & { destroy(): void };
  const sink = options.output ?? new PassThrough().resume();
  docker.modem.demuxStream(stream, sink, sink);
  let ended = false;
  const streamEnded = new Promise<void>((resolve) => {
    const done = (): void => {
      ended = true;
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
  if (options.stdin !== undefined) stream.end(options.stdin);
  try {
    const tickMs = options.tickMs ?? 250;
    for (;;) {
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null) {
        // Give the last buffered output a moment to arrive; a held-open stream is not waited for.
        await Promise.race([streamEnded, delay(200)]);
        return info.ExitCode;
      }
      const state = (await container.inspect()).State;
      if (!state.Running) return null;
      await options.onTick?.();
      // Output closing usually means the process is gone: look again at once, then at the normal pace.
      await (ended ? delay(tickMs) : Promise.race([streamEnded, delay(tickMs)]));
    }
  } finally {
    stream.destroy();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
