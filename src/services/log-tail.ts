import { open } from 'node:fs/promises';

// Logs of a failed start can be megabytes (dockerd, temporal); the end is what explains the failure.
const tailBytes = 16 * 1024;

/** Returns the last `maxLines` lines of a log file, or '' when it does not exist (yet). */
export async function readLogTail(file: string, maxLines = 40): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - tailBytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    return lines.slice(-maxLines).join('\n');
  } finally {
    await handle.close();
  }
}
