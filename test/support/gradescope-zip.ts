// Builds realistic gradescope_data.zip payloads for tests and the grading benchmark.
import { readFile } from 'node:fs/promises';
import type { SubmissionMetadataInput } from '../../src/submission/metadata-schema.js';
import { writeZip } from '../../src/submission/write-zip.js';

/** Example files in the shared fixtures folder that sits beside the repository (SPEC.md §4). */
export type GradescopeExample =
  | 'submission_metadata.real-capture-2023.json'
  | 'submission_metadata.go-autograder-example.json'
  | 'results.gradescope-utils-calculator.json'
  | 'results.go-autograder-example.json';

/** Reads one of the shared Gradescope example files as text. */
export function readGradescopeExample(name: GradescopeExample): Promise<string> {
  return readFile(new URL(`../../../shared/fixtures/gradescope/examples/${name}`, import.meta.url), 'utf8');
}

/** File contents by path; strings are written as UTF-8. */
export type TestFiles = Record<string, string | Uint8Array>;

/** The two default submitters: a group of two, the second with a deadline extension. */
export const DEFAULT_STUDENTS = [
  { id: 2651667, name: 'Alice Student', email: 'alice.student@uni.example.edu', sid: 'A12345678' },
  { id: 2651668, name: 'Bob Partner', email: 'bpartner@uni.example.edu', sid: 'A87654321' },
] as const;

/** What the default hostname.txt holds, as `hostname -I` prints it. */
export const DEFAULT_SENDER_IPS = ['10.0.0.5', '172.17.0.2'] as const;

/** Metadata shaped like the real 2023 capture, as a group submission of DEFAULT_STUDENTS. */
export function defaultMetadata(): SubmissionMetadataInput {
  const dates = {
    release_date: '2023-11-04T10:42:00.000000-07:00',
    due_date: '2023-11-15T10:42:00.000000-08:00',
    late_due_date: '2023-11-17T10:42:00.000000-08:00',
  };
  return {
    id: 209522918,
    users: DEFAULT_STUDENTS.map((student, index) => ({
      ...student,
      assignment: index === 0 ? dates : { ...dates, due_date: '2023-11-16T10:42:00.000000-08:00' },
    })),
    created_at: '2023-11-04T13:57:24.522843-07:00',
    assignment_id: null,
    assignment: {
      id: 3634596,
      title: 'Homework 1: Calculator',
      ...dates,
      total_points: '10.0',
      course_id: 661371,
      group_submission: true,
      group_size: 2,
      outline: [
        {
          id: 29397540,
          type: 'ProgrammingQuestion',
          title: 'Autograder',
          parent_id: null,
          weight: '10.0',
          content: [],
          index: 1,
        },
      ],
    },
    submission_method: 'upload',
    previous_submissions: [],
  };
}

/** A student's calculator.py whose header names both default students. */
export const DEFAULT_SUBMISSION_FILES: TestFiles = {
  'calculator.py': [
    '# Homework 1: calculator',
    `# Authors: ${DEFAULT_STUDENTS.map((s) => `${s.name} <${s.email}> (${s.sid})`).join(', ')}`,
    '',
    '',
    'def add(a, b):',
    '    return a + b',
    '',
    '',
    'def multiply(a, b):',
    '    return a * b',
    '',
  ].join('\n'),
};

/** A Python autograder that really runs: it grades calculator.py against tests/cases.json. */
export const DEFAULT_SOURCE_FILES: TestFiles = {
  'setup.sh': '#!/usr/bin/env bash\nset -euo pipefail\n# Nothing to install: the grader only needs python3.\n',
  run_autograder: `#!/usr/bin/env python3
"""Grades /autograder/submission/calculator.py and writes /autograder/results/results.json."""
import importlib.util
import json
import pathlib
import time

ROOT = pathlib.Path("/autograder")


def load_calculator():
    spec = importlib.util.spec_from_file_location("calculator", ROOT / "submission" / "calculator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_case(calculator, case):
    try:
        actual = getattr(calculator, case["function"])(*case["args"])
    except Exception as error:  # a student's bug must cost points, not crash the grader
        return 0, f"{type(error).__name__}: {error}"
    if actual == case["expected"]:
        return case["max_score"], ""
    return 0, f"expected {case['expected']!r}, got {actual!r}"


def main():
    started = time.monotonic()
    cases = json.loads((ROOT / "source" / "tests" / "cases.json").read_text())
    try:
        calculator, load_error = load_calculator(), None
    except Exception as error:
        calculator, load_error = None, f"could not import calculator.py: {error}"
    tests = []
    for case in cases:
        score, output = (0, load_error) if calculator is None else run_case(calculator, case)
        tests.append({"name": case["name"], "score": score, "max_score": case["max_score"], "output": output})
    results = {"tests": tests, "execution_time": round(time.monotonic() - started, 3)}
    (ROOT / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "results" / "results.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main()
`,
  'tests/cases.json': `${JSON.stringify(
    [
      { name: 'add(2, 3)', function: 'add', args: [2, 3], expected: 5, max_score: 5 },
      { name: 'multiply(4, 5)', function: 'multiply', args: [4, 5], expected: 20, max_score: 5 },
    ],
    null,
    2,
  )}\n`,
};

/** What Gradescope's own run of DEFAULT_SOURCE_FILES on DEFAULT_SUBMISSION_FILES wrote. */
export function defaultResults(): Record<string, unknown> {
  return {
    tests: [
      { name: 'add(2, 3)', score: 5, max_score: 5, output: '' },
      { name: 'multiply(4, 5)', score: 5, max_score: 5, output: '' },
    ],
    execution_time: 0.021,
  };
}

/** What to put in a test gradescope_data.zip; every part has a realistic default. */
export interface GradescopeZipOptions {
  /** submission_metadata.json: an object to serialise, or raw text; null leaves the file out. */
  metadata?: unknown;
  /** Files under autograder/submission/; replaces DEFAULT_SUBMISSION_FILES. */
  submissionFiles?: TestFiles;
  /** Files under autograder/source/; replaces DEFAULT_SOURCE_FILES. */
  sourceFiles?: TestFiles;
  /** autograder/results/results.json: an object to serialise, or raw text; null leaves it out. */
  results?: unknown;
  /** hostname.txt content; null leaves it out. */
  hostname?: string | null;
  /** More files by path from the root (e.g. 'gradescope/run.sh'); null removes a file the defaults add. */
  extra?: Record<string, string | Uint8Array | null>;
  /** Folder the tree sits in: 'gradescope_data/' (default), or '' for a bare tree. */
  rootPrefix?: string;
}

const EXECUTABLES = new Set([
  'autograder/run_autograder',
  'autograder/source/run_autograder',
  'autograder/source/setup.sh',
]);

/** Builds a gradescope_data.zip like the publishing hook makes (deterministic bytes). */
export async function buildGradescopeZip(options: GradescopeZipOptions = {}): Promise<Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const put = (path: string, content: unknown) => {
    if (content === null || content === undefined) return;
    files.set(path, toBytes(content));
  };
  const source = options.sourceFiles ?? DEFAULT_SOURCE_FILES;
  put('hostname.txt', options.hostname === undefined ? `${DEFAULT_SENDER_IPS.join(' ')} \n` : options.hostname);
  put('autograder/submission_metadata.json', options.metadata === undefined ? defaultMetadata() : options.metadata);
  put('autograder/results/results.json', options.results === undefined ? defaultResults() : options.results);
  // Gradescope copies run_autograder to /autograder as well when it builds the image.
  put('autograder/run_autograder', source['run_autograder']);
  put('gradescope/README', 'Gradescope harness files (undocumented).\n');
  for (const [path, content] of Object.entries(source)) put(`autograder/source/${path}`, content);
  const submission = options.submissionFiles ?? DEFAULT_SUBMISSION_FILES;
  for (const [path, content] of Object.entries(submission)) put(`autograder/submission/${path}`, content);
  for (const [path, content] of Object.entries(options.extra ?? {})) {
    if (content === null) files.delete(path);
    else put(path, content);
  }
  const modes = new Map([...EXECUTABLES].filter((path) => files.has(path)).map((path) => [path, 0o755]));
  return writeZip(files, { modes, rootPrefix: options.rootPrefix ?? 'gradescope_data/' });
}

function toBytes(content: unknown): Uint8Array {
  if (content instanceof Uint8Array) return content;
  return new TextEncoder().encode(typeof content === 'string' ? content : JSON.stringify(content));
}
