import { PRISTINE_AUTOGRADER } from './grader-sandbox.js';

/** Printed by the container's command once /autograder is filled, before anything untrusted has run. */
export const READY_LINE = 'greengrader: autograder filled\n';

/** The line the node writes on the container's stdin when the grader may start; it carries the run's nonce. */
export const goLine = (nonce: string): string => `go ${nonce}\n`;
/** The line the node writes once it has read the container's CPU time: the container may end now. */
export const DONE_LINE = '\n';

// The nonce reaches the shell only when the grader starts, on stdin: a trailer the grader prints cannot carry it.
export const trailerBegin = (nonce: string): string => `\n==== greengrader results ${nonce} ====\n`;
export const trailerEnd = (nonce: string): string => `==== greengrader results end ${nonce} ====\n`;

const RESULTS_PATH = '/autograder/results/results.json';

/**
 * The grader container's one command, so a run needs no `docker exec`. Under docker-init (PID 1):
 * 1. copy the image's pristine /autograder into the capped tmpfs and unpack the submission (a tar on stdin) over
 *    it, its messages on stdout; print READY_LINE. Nothing untrusted has run, so the first such line is ours;
 * 2. wait for the go line (a prefetched container waits here for a free slot);
 * 3. run run_autograder in /autograder as the image's user, stdin from /dev/null, output straight to the
 *    container's stdout and stderr (the node reads it through its attach, capped);
 * 4. once it exits, `kill -9 -1` ends whatever it left behind, so nothing can swap results.json any more, then
 *    print the trailer: what results.json is (a regular file's size checked before a byte is read: a FIFO would
 *    block, a device or symlink is not the grader's output, a sparse 1 TB file would stream for hours) and, for a
 *    regular file within the cap, at most cap + 1 of its bytes in base64;
 * 5. wait for the node to have read the CPU time (the cgroup goes with the container), then exit with the
 *    grader's status, which the node reads from `wait`.
 * A shell builtin does all the waiting; only `stat`, `head` and `base64` run as processes, after the grader.
 */
export function graderCommand(resultsMaxBytes: number): string[] {
  const script = [
    `{ cp -a ${PRISTINE_AUTOGRADER}/. /autograder/ && tar -x -f - -C /autograder; } 2>&1 || exit 1`,
    `echo '${READY_LINE.trimEnd()}'`,
    'read -r _ n || exit 1',
    'cd /autograder && ./run_autograder </dev/null; c=$?',
    'kill -9 -1 2>/dev/null',
    `r=${RESULTS_PATH}`,
    `printf '\\n==== greengrader results %s ====\\n' "$n"`,
    'if [ -L "$r" ] || { [ -e "$r" ] && [ ! -f "$r" ]; }; then echo not-regular',
    'elif [ ! -e "$r" ]; then echo absent',
    `elif ! z=$(stat -c %s "$r"); then echo unreadable`,
    `elif [ "$z" -gt ${resultsMaxBytes} ]; then echo "too-large $z"`,
    `else echo present; head -c ${resultsMaxBytes + 1} "$r" | base64; fi`,
    `printf '==== greengrader results end %s ====\\n' "$n"`,
    'read -r _',
    'exit $c',
  ].join('\n');
  return ['/bin/sh', '-c', script];
}
