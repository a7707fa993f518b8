import type Docker from 'dockerode';
import { CappedBuffer } from './capped-buffer.js';
import { runInContainer } from './container-exec.js';

const RESULTS_PATH = '/autograder/results/results.json';
/**
 * The read comes after the stat, and a process the grader left running could swap the file for a FIFO in between:
 * `head` would then wait for a writer forever. What a regular file under the cap needs is far less.
 */
const READ_TIMEOUT_SEC = 30;

export type ResultsFile =
  | { kind: 'absent' }
  | { kind: 'too-large'; sizeBytes: number }
  | { kind: 'not-a-file' }
  | { kind: 'read'; text: string; truncated: boolean };

/**
 * The one command that checks and reads results.json: a first line saying what it is (`absent`, `special`, or its
 * size in bytes), then, for a regular file under the cap, at most cap + 1 of its bytes.
 */
function checkThenRead(maxBytes: number): string[] {
  const read = `exec timeout -s KILL ${READ_TIMEOUT_SEC} head -c ${maxBytes + 1} "$f"`;
  return [
    '/bin/sh',
    '-c',
    `f=${RESULTS_PATH}; if [ -L "$f" ]; then echo special; elif [ ! -e "$f" ]; then echo absent; ` +
      `elif [ -f "$f" ]; then s=$(stat -c %s "$f") || exit 1; echo "$s"; if [ "$s" -le ${maxBytes} ]; then ${read}; fi; ` +
      `else echo special; fi`,
  ];
}

/**
 * Reads results.json from the still-running container in one exec: its size first, refusing anything over the
 * cap unread, then at most cap + 1 bytes of it. A 1 TB sparse file is refused in milliseconds instead of being
 * streamed past the heartbeat timeout; a file that grows after the size check is cut. Only a regular file counts:
 * a FIFO would block the read, a device (or a symlink to one, or to a file outside the results folder) is not the
 * grader's output, so a symlink is refused whatever it points at.
 */
export async function readResultsFile(
  docker: Docker,
  container: Docker.Container,
  exited: Promise<unknown>,
  maxBytes: number,
): Promise<ResultsFile> {
  // The first line is at most 20 digits and a newline; the content at most cap + 1 bytes.
  const output = new CappedBuffer(maxBytes + 32);
  const code = await runInContainer(docker, container, exited, checkThenRead(maxBytes), { output });
  const all = output.bytes();
  const newline = all.indexOf(0x0a);
  const answer = (newline === -1 ? all : all.subarray(0, newline)).toString('utf8').trim();
  if (answer === 'absent') return { kind: 'absent' };
  if (answer === 'special') return { kind: 'not-a-file' };
  if (!/^\d+$/.test(answer)) throw new Error(`could not stat ${RESULTS_PATH} in the grader container: ${answer}`);
  const sizeBytes = Number(answer);
  if (sizeBytes > maxBytes) return { kind: 'too-large', sizeBytes };
  if (code === 137) return { kind: 'not-a-file' }; // killed by the timeout: it was swapped for something that blocks
  const content = all.subarray(newline + 1);
  return {
    kind: 'read',
    text: content.subarray(0, maxBytes).toString('utf8'),
    truncated: content.length > maxBytes || output.truncated,
  };
}
