import type { AutograderJob } from './executor.js';
import { treeEntries, type TarEntry } from './tar-archive.js';

/** Gradescope's documented layout under /autograder: submission/, submission_metadata.json, an empty results/. */
export function submissionLayout(job: AutograderJob): TarEntry[] {
  return [
    { path: 'submission', directory: true },
    ...treeEntries('submission', job.submissionFiles),
    { path: 'submission_metadata.json', bytes: Buffer.from(job.metadataJson) },
    // World-writable: the grader may run as any user and must be able to write results.json.
    { path: 'results', directory: true, mode: 0o777 },
  ];
}
