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
 * Reads results.json from the still-running container: its size first (stat), refusing anything over the cap
 * unread, then at most cap + 1 bytes of it, heartbeating throughout. A 1 TB sparse file is refused in
 * milliseconds instead of being streamed past the heartbeat timeout; a file that grows after the stat is cut.
 * Only a regular file counts: a FIFO would block the read, a device (or a symlink to one, or to a file outside
 * the results folder) is not the grader's output, so a symlink is refused whatever it points at.
 */
export async function readResultsFile(
  docker: Docker,
  container: Docker.Container,
  maxBytes: number,
  onTick: () => void,
): Promise<ResultsFile> {
  const probe = new CappedBuffer(256);
  const script = `f=${RESULTS_PATH}; if [ -L "$f" ]; then echo special; elif [ ! -e "$f" ]; then echo absent; elif [ -f "$f" ]; then stat -c %s "$f"; else echo special; fi`;
  await runInContainer(docker, container, ['/bin/sh', '-c', script], { output: probe, onTick });
  const answer = probe.text().trim();
  if (answer === 'absent') return { kind: 'absent' };
  if (answer === 'special') return { kind: 'not-a-file' };
  const sizeBytes = Number(answer);
  if (!/^\d+$/.test(answer)) throw new Error(`could not stat ${RESULTS_PATH} in the grader container: ${answer}`);
  if (sizeBytes > maxBytes) return { kind: 'too-large', sizeBytes };
  const content = new CappedBuffer(maxBytes);
  const read = ['timeout', '-s', 'KILL', String(READ_TIMEOUT_SEC), 'head', '-c', String(maxBytes + 1), RESULTS_PATH];
  const code = await runInContainer(docker, container, read, { output: content, onTick });
  if (code === 137) return { kind: 'not-a-file' }; // killed by the timeout: it was swapped for something that blocks
  return { kind: 'read', text: content.text(), truncated: content.truncated };
}
