import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { AutograderJob } from '../executor.js';
import { submissionLayout } from '../submission-layout.js';
import { packTar } from '../tar-archive.js';
import { SubmissionTooLargeError } from './errors.js';

/** The API server refuses a Secret whose data exceeds 1 MiB; leave room for the object around it. */
const MAX_SECRET_DATA_BYTES = 1024 * 1024 - 4096;

/**
 * Gradescope's layout (submission/, submission_metadata.json, an empty world-writable results/) as one gzipped
 * tar: one Secret key whatever the file names, modes kept, and typical code submissions shrink several-fold.
 */
export async function packSubmission(job: AutograderJob): Promise<Buffer> {
  const tar = await packTar(submissionLayout(job));
  const packed = await promisify(gzip)(tar, { level: 9 });
  if (packed.length > MAX_SECRET_DATA_BYTES) throw new SubmissionTooLargeError(packed.length, MAX_SECRET_DATA_BYTES);
  return packed;
}
