import type { GraderLimits } from '../executor.js';
import { parseChildCpuMs } from '../cpu-times.js';
import { PRISTINE_AUTOGRADER } from '../docker/grader-sandbox.js';

/** Where the submission Secret is mounted (read-only); the wrapper unpacks it into /autograder. */
export const INPUT_DIR = '/greengrader/input';
export const INPUT_KEY = 'payload.tgz';
/** The run's trailer nonce, readable by root (the wrapper) only. */
export const NONCE_KEY = 'nonce';
/** The grader runs as this user, so it cannot touch PID 1's stdout, the nonce or the wrapper's files. */
const GRADER_UID = 65534;

// Each carries the run's nonce: a trailer the grader prints itself cannot, so it is not taken for ours.
const begin = (nonce: string): string => `==== greengrader trailer v2 ${nonce} ====`;
const end = (nonce: string): string => `==== greengrader trailer end ${nonce} ====`;
const RESULTS_FILE = '/autograder/results/results.json';
// Wrapper exit code when the input could not be unpacked: an infrastructure fault, not the grader's.
const INPUT_FAILED_EXIT = 121;
// After the in-pod timeout's TERM, a grader that ignores it gets KILL this much later.
const KILL_AFTER_SEC = 5;

// How long output still in the pipe may take to arrive once the grader has ended, before the rest is killed.
const DRAIN_STEPS = 100;
const DRAIN_STEP_SEC = 0.02;

/**
 * The container's only command, run by /bin/sh as PID 1, with the Docker executor's semantics: unpack the
 * submission into Gradescope's layout, run /autograder/run_autograder in /autograder under the wall-clock timeout,
 * keep at most `outputMaxBytes` of its output (the rest is read and counted, never blocking the grader), then print
 * a trailer to stdout: exit code, start and end times (ms), dropped bytes, the children's CPU time (`times` of
 * PID 1, which reaps every descendant) and results.json as base64, cut at `resultsMaxBytes` + 1 so truncation shows.
 *
 * As on Docker, where the container ends with its PID 1, nothing the grader started outlives it: `timeout` runs it
 * in a process group of its own, which is killed once the grader exits, so a background server holding stdout
 * cannot keep the pod alive; whatever escaped the group (setsid) gets a short drain and then `kill -9 -1`. The
 * capped copy is written unbuffered (`stdbuf -o0` where coreutils has it) so such a kill loses no kept output.
 * The trailer comes after the grader's output has ended, so the last trailer in the log is ours.
 *
 * The trailer cannot be forged: the wrapper (root) reads the run's nonce from a root-only file of the Secret and
 * runs the grader as `nobody` (setpriv), which cannot read that file, open PID 1's stdout (/proc/1/fd/1) or the
 * wrapper's 0700 folder (CPU times, dropped bytes); only a trailer carrying the nonce counts.
 */
export function graderWrapperScript(limits: GraderLimits): string {
  const d = '/tmp/.greengrader';
  const trailerStart = `printf '\\n%s\\n' "==== greengrader trailer v2 $n ===="`;
  const trailerEnd = `echo "==== greengrader trailer end $n ===="`;
  return [
    `n=$(cat ${INPUT_DIR}/${NONCE_KEY})`,
    // /autograder is an empty scratch folder: fill it from the image's pristine copy (ensureAssignmentImage).
    `mkdir -p ${d} && chmod 700 ${d} && : > ${d}/input-error`,
    `cp -a ${PRISTINE_AUTOGRADER}/. /autograder/ 2>${d}/input-error`,
    'mkdir -p /autograder/submission /autograder/results && chmod 777 /autograder/results',
    `if [ -s ${d}/input-error ] || ! tar -xzf ${INPUT_DIR}/${INPUT_KEY} -C /autograder 2>>${d}/input-error; then`,
    `  ${trailerStart}; echo "stage=input"; echo "error=$(head -c 500 ${d}/input-error | tr '\\n' ' ')"`,
    `  ${trailerEnd}; exit ${INPUT_FAILED_EXIT}`,
    'fi',
    // The grader (as nobody) may write all of /autograder and the scratch folders, as it could as root.
    'chmod -R a+rwX /autograder && chmod 1777 /tmp /var/tmp /root /home /run 2>/dev/null',
    'cd /autograder',
    // No core dumps: a node whose core_pattern pipes to a helper would write the grader's memory to its disk.
    'ulimit -c 0',
    `mkfifo ${d}/output`,
    "cap=head; command -v stdbuf >/dev/null 2>&1 && cap='stdbuf -o0 head'",
    `{ $cap -c ${limits.outputMaxBytes}; wc -c > ${d}/dropped; : > ${d}/drained; } < ${d}/output &`,
    's=$(date +%s%3N)',
    `timeout -k ${KILL_AFTER_SEC} ${limits.timeoutSec} setpriv --reuid=${GRADER_UID} --regid=${GRADER_UID} --clear-groups /autograder/run_autograder > ${d}/output 2>&1 &`,
    't=$!',
    'wait $t; code=$?',
    'e=$(date +%s%3N)',
    'kill -9 -$t 2>/dev/null',
    `i=0; while [ ! -f ${d}/drained ] && [ $i -lt ${DRAIN_STEPS} ]; do sleep ${DRAIN_STEP_SEC}; i=$((i+1)); done`,
    'kill -9 -1 2>/dev/null; wait',
    `times > ${d}/times`,
    trailerStart,
    'echo "stage=done"',
    'echo "exit=$code"',
    'echo "startedMs=$s"',
    'echo "finishedMs=$e"',
    `echo "dropped=$(tr -d ' ' < ${d}/dropped 2>/dev/null)"`,
    `echo "cpu=$(sed -n 2p ${d}/times)"`,
    // Only a regular file, its size checked before a byte is read: a FIFO would block `head` until the pod's
    // deadline, a device or a symlink (to /dev/zero, or out of the results folder) is not the grader's output,
    // a sparse 1 TB file would stream for hours. Nothing can swap it now: `kill -9 -1` above ended every writer.
    `r=${RESULTS_FILE}`,
    'if [ -L "$r" ] || { [ -e "$r" ] && [ ! -f "$r" ]; }; then echo "results=not-regular"',
    'elif [ ! -e "$r" ]; then echo "results=absent"',
    `elif z=$(stat -c %s "$r") && [ "$z" -gt ${limits.resultsMaxBytes} ]; then echo "resultsSize=$z"; echo "results=too-large"`,
    `else echo "results=present"; head -c ${limits.resultsMaxBytes + 1} "$r" | base64; fi`,
    trailerEnd,
    'exit $code',
  ].join('\n');
}

/** The largest log a run can produce: capped output, the trailer with base64 results, some slack. */
export function maxLogBytes(limits: GraderLimits): number {
  const base64 = Math.ceil((limits.resultsMaxBytes + 1) / 3) * 4;
  return limits.outputMaxBytes + base64 + Math.ceil(base64 / 76) + 4096;
}

/** What the wrapper reported after the grader ended. */
export type Trailer =
  | { stage: 'input'; error: string }
  | {
      stage: 'done';
      exitCode: number | null;
      startedAt: Date | null;
      finishedAt: Date | null;
      outputTruncated: boolean;
      cpuTimeMs: number | null;
      resultsJson: string | null;
      resultsTruncated: boolean;
      /** Why results.json was refused unread (see AutograderExecution.resultsRefusal); null when read or absent. */
      resultsRefusal: string | null;
      /** The in-pod `timeout` ended the grader. */
      timedOut: boolean;
    };

/** Splits a pod log into the grader's output and the wrapper's trailer (null when the pod died before writing it). */
export function parseGraderLog(
  log: string,
  limits: GraderLimits,
  nonce: string,
): { output: string; outputTruncated: boolean; trailer: Trailer | null } {
  const BEGIN = begin(nonce);
  const start = log.lastIndexOf(`\n${BEGIN}\n`);
  const stop = log.indexOf(`\n${end(nonce)}`, start);
  if (start === -1 || stop === -1) {
    // No trailer: the container was killed (OOM of PID 1, deletion) before its end; keep what it printed.
    const bytes = Buffer.from(log);
    const truncated = bytes.length > limits.outputMaxBytes;
    return {
      output: truncated ? bytes.subarray(0, limits.outputMaxBytes).toString('utf8') : log,
      outputTruncated: truncated,
      trailer: null,
    };
  }
  const lines = log.slice(start + BEGIN.length + 2, stop).split('\n');
  const fields = new Map<string, string>();
  let resultLines: string[] = [];
  for (const [index, line] of lines.entries()) {
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const key = line.slice(0, eq);
    fields.set(key, line.slice(eq + 1));
    if (key === 'results') {
      resultLines = lines.slice(index + 1);
      break;
    }
  }
  const output = log.slice(0, start);
  if (fields.get('stage') === 'input') {
    return { output, outputTruncated: false, trailer: { stage: 'input', error: fields.get('error') ?? '' } };
  }
  const exitCode = integerOrNull(fields.get('exit'));
  const startedMs = integerOrNull(fields.get('startedMs'));
  const finishedMs = integerOrNull(fields.get('finishedMs'));
  const resultsState = fields.get('results');
  const results = resultsState === 'present' ? Buffer.from(resultLines.join(''), 'base64') : null;
  const resultsSize = integerOrNull(fields.get('resultsSize'));
  const ranFullTimeout =
    startedMs !== null && finishedMs !== null && finishedMs - startedMs >= limits.timeoutSec * 1000;
  const outputTruncated = (integerOrNull(fields.get('dropped')) ?? 0) > 0;
  return {
    output,
    outputTruncated,
    trailer: {
      stage: 'done',
      exitCode,
      startedAt: startedMs === null ? null : new Date(startedMs),
      finishedAt: finishedMs === null ? null : new Date(finishedMs),
      outputTruncated,
      // parseChildCpuMs reads the second line of `times` (the children's); the first is the shell's own.
      cpuTimeMs: parseChildCpuMs(`self\n${fields.get('cpu') ?? ''}`),
      resultsJson: results === null ? null : results.subarray(0, limits.resultsMaxBytes).toString('utf8'),
      resultsTruncated: resultsState === 'too-large' || (results !== null && results.length > limits.resultsMaxBytes),
      resultsRefusal: resultsRefusal(resultsState, resultsSize, limits.resultsMaxBytes),
      // 124: `timeout` sent TERM; 137: it had to send KILL. Either only after the full timeout.
      timedOut: (exitCode === 124 || exitCode === 137) && ranFullTimeout,
    },
  };
}

function resultsRefusal(state: string | undefined, sizeBytes: number | null, maxBytes: number): string | null {
  if (state === 'not-regular') return 'results.json is not a regular file (a FIFO, device or symlink): refused unread';
  if (state === 'too-large') {
    return `results.json is larger than ${maxBytes} bytes (${sizeBytes ?? 'unknown'} bytes): refused unread`;
  }
  return null;
}

function integerOrNull(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text.trim())) return null;
  return Number(text.trim());
}
