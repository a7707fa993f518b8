import { createHash, randomUUID } from 'node:crypto';
import type { AutograderJob, FileTree, GraderLimits } from '../../src/executors/executor.js';

export function fileTree(entries: Record<string, string>, mode = 0o644): FileTree {
  return new Map(Object.entries(entries).map(([path, text]) => [path, { bytes: Buffer.from(text), mode }]));
}

/** A grader whose run_autograder body is the given shell script; one image per distinct script. */
export function graderJob(script: string, limits: GraderLimits, overrides: Partial<AutograderJob> = {}): AutograderJob {
  const runAutograder = `#!/bin/bash\n${script}\n`;
  return {
    runId: randomUUID(),
    assignmentId: 4242,
    sourceHash: createHash('sha256').update(runAutograder).digest('hex'),
    sourceFiles: fileTree({ run_autograder: runAutograder }, 0o755),
    submissionFiles: fileTree({ 'answer.txt': '42\n' }),
    metadataJson: JSON.stringify({ id: 1 }),
    limits,
    ...overrides,
  };
}

/** A job whose image runs `setup` as setup.sh; a fresh source hash, so it is always built. */
export function jobWithSetup(setup: string, limits: GraderLimits): AutograderJob {
  const runAutograder = '#!/bin/bash\necho never\n';
  return graderJob('echo never', limits, {
    sourceHash: randomUUID().replace(/-/g, ''),
    sourceFiles: new Map([
      ['run_autograder', { bytes: Buffer.from(runAutograder), mode: 0o755 }],
      ['setup.sh', { bytes: Buffer.from(setup) }],
    ]),
  });
}
