/** Path, relative to the tree's root, of the file that marks where a Gradescope tree starts. */
export const ROOT_MARKER = 'autograder/submission_metadata.json';

/**
 * Folder inside the zip that holds the Gradescope tree: `gradescope_data/` for zips made by the
 * publishing hook, '' for zips of the tree itself. The shallowest marker wins, so a student file that
 * happens to be called `autograder/submission_metadata.json` cannot move the root. '' when none is found.
 */
export function findRootPrefix(paths: Iterable<string>, marker = ROOT_MARKER): string {
  let best: string | null = null;
  for (const path of paths) {
    if (path !== marker && !path.endsWith(`/${marker}`)) continue;
    const prefix = path.slice(0, path.length - marker.length);
    if (best === null || prefix.length < best.length) best = prefix;
  }
  return best ?? '';
}
