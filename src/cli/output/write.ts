/** What a command prints for its reader: stdout, so it can be piped. */
export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Progress and notes for a person watching: stderr, so `--json` output on stdout stays clean. */
export function writeProgress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** The `--json` form of a result: two-space indented, one trailing newline. */
export function writeJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 2));
}
