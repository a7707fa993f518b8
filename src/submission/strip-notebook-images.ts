import { jsonNestingDepth, MAX_JSON_DEPTH } from './json-depth.js';
/** What stands in for an image a notebook output carried. */
const IMAGE_PLACEHOLDER = "[image removed by GreenGrader's anonymisation]";

/**
 * A Jupyter notebook without the images its outputs carry (base64 `image/*` data: plots, but also photos or
 * scans), which cannot be scrubbed as text; each output keeps a `text/plain` line saying what was removed.
 * Returns null when the text is not a notebook or holds no image, so the caller keeps the file's layout.
 * A changed notebook is written as nbformat writes it: one-space indent and a final newline.
 */
export function stripNotebookImages(text: string): string | null {
  // Writing a notebook nested past the limit back out would overflow JSON.stringify's stack: left as it is.
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH) return null;
  let notebook: unknown;
  try {
    notebook = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(notebook) || !Array.isArray(notebook.cells)) return null;
  let removed = 0;
  for (const cell of notebook.cells) {
    if (!isRecord(cell) || !Array.isArray(cell.outputs)) continue;
    for (const output of cell.outputs) {
      if (!isRecord(output) || !isRecord(output.data)) continue;
      const data = output.data;
      const images = Object.keys(data).filter((mime) => mime.startsWith('image/'));
      for (const mime of images) delete data[mime];
      if (images.length > 0) {
        removed += images.length;
        data['text/plain'] ??= IMAGE_PLACEHOLDER;
      }
    }
  }
  return removed === 0 ? null : `${JSON.stringify(notebook, null, 1)}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
