// A Gradescope submission whose grader burns a set amount of CPU time: the load of a real autograder, for the
// queueing tests and `npm run bench:batch`.
import { buildGradescopeZip, DEFAULT_SOURCE_FILES, type TestFiles } from './gradescope-zip.js';

/** The assignment's source: run_autograder spins until its process has used `cpuSec` of CPU, then scores 10/10. */
export function cpuGraderSource(cpuSec: number): TestFiles {
  return {
    'setup.sh': DEFAULT_SOURCE_FILES['setup.sh'] ?? '',
    run_autograder: `#!/usr/bin/env python3
"""Burns ${cpuSec} s of CPU (process time, not wall time: a busy machine takes longer), then writes results."""
import json
import pathlib
import time

spins = 0
while time.process_time() < ${cpuSec}:
    spins += 1
results = {"tests": [{"name": "cpu", "score": 10, "max_score": 10, "output": f"{spins} spins"}]}
pathlib.Path("/autograder/results").mkdir(parents=True, exist_ok=True)
pathlib.Path("/autograder/results/results.json").write_text(json.dumps(results))
`,
  };
}

/** One distinct submission (its own payload hash) of the CPU-bound assignment. */
export function cpuGraderZip(cpuSec: number, label: string, metadata?: unknown): Promise<Uint8Array> {
  return buildGradescopeZip({
    sourceFiles: cpuGraderSource(cpuSec),
    hostname: `${label}\n`,
    ...(metadata === undefined ? {} : { metadata }),
  });
}
