/** Wraps an async action so repeated calls share the first run: lets every cleanup path call `stop()` safely. */
export function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action());
}
