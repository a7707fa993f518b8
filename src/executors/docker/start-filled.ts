import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import type Docker from 'dockerode';
import type { AutograderJob } from '../executor.js';
import { NonRetryableExecutorError } from '../executor-error.js';
import { submissionLayout } from '../submission-layout.js';
import { packTar } from '../tar-archive.js';
import { CappedBuffer } from './capped-buffer.js';
import { DONE_LINE, goLine, READY_LINE, trailerBegin, trailerEnd } from './grader-command.js';
import { MarkerSplit } from './marker-split.js';

/** Thrown when the assignment's own files do not fit in the grader's disk cap: every node would fail the same. */
class SandboxSetupError extends NonRetryableExecutorError {
  override name = 'SandboxSetupError';
  readonly type = 'SandboxSetupFailed';
}

/** Copying the assignment and unpacking a submission takes seconds; an engine that hangs here is a node fault. */
const FILL_TIMEOUT_MS = 300_000;
/**
 * GNU tar reads stdin in whole 10 KiB records: an archive ending mid-record would leave it waiting for the
 * rest, which is the go line. Zero padding to a record is what tar writers do anyway.
 */
const TAR_RECORD_BYTES = 10_240;

/** Container settings the fill needs: stdin open for the tar and the node's go and done lines. */
export const FILL_STDIN = { AttachStdin: true, OpenStdin: true, StdinOnce: true } as const;

/** A started grader container with /autograder filled, waiting for its go line, and the node's one attach to it. */
export interface FilledContainer {
  /** The container's one `wait`: settles when it stops, for whatever reason, with its command's exit status. */
  exited: Promise<{ StatusCode: number }>;
  /** Starts the grader. */
  go(): void;
  /** Resolves with the trailer's results part once the command printed it: the grader and all it started ended. */
  trailer: Promise<string>;
  /** Lets the container end: the node has read what needed it running. */
  done(): void;
  /** True once stdout carried bytes after the trailer: the grader printed the trailer itself, having the nonce. */
  forged(): boolean;
  /** Resolves once the attach stream closed (all output received) or after `graceMs`, whichever comes first. */
  drained(graceMs: number): Promise<void>;
  /** Closes the attach. */
  close(): void;
}

/**
 * Starts a container created with graderCommand and FILL_STDIN, feeds it the job's files and resolves once they
 * are in place. The attach stays open for the whole run: stdout up to the ready line is the fill's log, then the
 * grader's output (with stderr, into `output`) up to the trailer, whose begin and end lines carry a nonce the
 * container learns only with the go line. Throws SandboxSetupError when the fill failed (the files do not fit),
 * which is also what a kill by the caller looks like: the caller tells the two apart by why it killed.
 */
export async function startFilled(
  docker: Docker,
  container: Docker.Container,
  job: AutograderJob,
  output: Writable,
): Promise<FilledContainer> {
  const tar = padToRecord(await packTar(submissionLayout(job)));
  const nonce = randomBytes(16).toString('hex');
  const stream = (await container.attach({
    stream: true,
    hijack: true,
    stdin: true,
    stdout: true,
    stderr: true,
  })) as NodeJS.ReadWriteStream & NodeJS.EventEmitter & { destroy(): void };
  const closed = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  try {
    const log = new CappedBuffer(4096);
    const trailer = new TrailerSink(Buffer.from(trailerEnd(nonce)), job.limits.resultsMaxBytes);
    const graderOut = new MarkerSplit(Buffer.from(trailerBegin(nonce)), output, trailer, () => undefined);
    let ready!: () => void;
    const seen = new Promise<void>((resolve) => (ready = resolve));
    const stdout = new MarkerSplit(Buffer.from(READY_LINE), log, graderOut, () => ready());
    docker.modem.demuxStream(stream, stdout, output);
    await container.start();
    // `not-running` answers at once for a container that already stopped, so the wait cannot miss a quick exit.
    const exited = container.wait({ condition: 'not-running' }) as Promise<{ StatusCode: number }>;
    exited.catch(() => undefined); // awaited by every later step; never left unhandled after removal
    stream.write(tar);
    let timer: NodeJS.Timeout | undefined;
    const filled = await Promise.race([
      seen.then(() => true),
      exited.then(() => false),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('filling /autograder took over 300 s')), FILL_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!filled) {
      await Promise.race([closed, delay(1000)]);
      stdout.flush();
      throw new SandboxSetupError(`could not place the assignment and submission in /autograder: ${log.text().trim()}`);
    }
    const grace = (ms: number) => Promise.race([closed, delay(ms)]);
    return {
      exited,
      go: () => void stream.write(goLine(nonce)),
      trailer: trailer.text,
      done: () => void stream.write(DONE_LINE),
      forged: () => trailer.overrun,
      drained: async (graceMs) => {
        await grace(graceMs);
        graderOut.flush();
      },
      close: () => stream.destroy(),
    };
  } catch (error) {
    stream.destroy();
    throw error;
  }
}

/** Collects the trailer up to its end line; anything after it means the trailer was not the node's command's. */
class TrailerSink {
  private chunks: Buffer[] = [];
  private size = 0;
  private complete = false;
  overrun = false;
  private resolve!: (text: string) => void;
  readonly text = new Promise<string>((resolve) => (this.resolve = resolve));

  /** The results part is at most cap + 1 bytes in base64 (76-column lines) plus a status line. */
  private readonly maxBytes: number;

  constructor(
    private readonly end: Buffer,
    resultsMaxBytes: number,
  ) {
    this.maxBytes = Math.ceil(((resultsMaxBytes + 1) / 3) * 4 * (77 / 76)) + 256 + end.length;
  }

  write(chunk: Buffer): void {
    if (this.complete) {
      this.overrun = true;
      return;
    }
    if (this.size + chunk.length > this.maxBytes) {
      this.overrun = true; // our command's trailer is never this long
      chunk = chunk.subarray(0, Math.max(0, this.maxBytes - this.size));
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    const all = Buffer.concat(this.chunks);
    const at = all.indexOf(this.end);
    if (at === -1) return;
    this.complete = true;
    if (at + this.end.length < all.length) this.overrun = true;
    this.resolve(all.subarray(0, at).toString('utf8'));
  }
}

function padToRecord(tar: Buffer): Buffer {
  const short = (TAR_RECORD_BYTES - (tar.length % TAR_RECORD_BYTES)) % TAR_RECORD_BYTES;
  return short === 0 ? tar : Buffer.concat([tar, Buffer.alloc(short)]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
