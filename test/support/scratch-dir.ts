import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Every test file runs in a process of its own: its scratch directories go under one directory of that process,
// removed when it exits, so test runs leave nothing behind in the machine's temp directory (one CI run used to
// leave ~250 directories of zips there, which piled up run after run).
let processRoot: string | undefined;

function rootOfThisProcess(): string {
  if (processRoot === undefined) {
    const root = mkdtempSync(path.join(tmpdir(), `gg-test-${process.pid}-`));
    process.once('exit', () => {
      // A file the test left that cannot be removed must not fail the test file after its tests passed.
      try {
        rmSync(root, { recursive: true, force: true });
      } catch (error) {
        process.stderr.write(`could not remove the test scratch directory ${root}: ${String(error)}\n`);
      }
    });
    processRoot = root;
  }
  return processRoot;
}

/** A fresh directory for one test's files, removed with the others when the test process exits. */
export function scratchDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(rootOfThisProcess(), prefix));
}
