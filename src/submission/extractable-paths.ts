import { entryLabel } from './entry-label.js';
import { InvalidSubmissionError } from './errors.js';

/** Linux filesystems (ext4, xfs, tmpfs, overlayfs) hold at most this many bytes in one name. */
const NAME_MAX_BYTES = 255;

/**
 * Refuses a tree that `tar` in the grader's container could not unpack, which would otherwise look like a node or
 * an assignment fault and fail the run on every node: a name part longer than a filesystem allows, and a path
 * that is a file and also holds another file as a folder (`a` and `a/b`). Checked on the tree as it is stored
 * (anonymised, root folder stripped), since that is what is unpacked; zips inside it are never unpacked.
 */
export function checkExtractable(paths: Iterable<string>): void {
  const files = new Set(paths);
  for (const path of files) {
    const segments = path.split('/');
    if (segments.some((segment) => Buffer.byteLength(segment, 'utf8') > NAME_MAX_BYTES)) {
      throw new InvalidSubmissionError(
        'unextractable-path',
        `Zip ${entryLabel(path)} has a name part longer than ${NAME_MAX_BYTES} bytes, which no filesystem can hold.`,
      );
    }
    for (let depth = 1; depth < segments.length; depth++) {
      const folder = segments.slice(0, depth).join('/');
      if (files.has(folder)) {
        throw new InvalidSubmissionError(
          'unextractable-path',
          `Zip ${entryLabel(folder)} is a file, and ${entryLabel(path)} puts something inside it as a folder.`,
        );
      }
    }
  }
}
