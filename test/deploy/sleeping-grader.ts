// The fleet test's assignment: a grader that takes a few seconds without using the CPU (the fleet's nodes share
// this machine's two cores), so several runs overlap and a node can be killed while one is in flight.
import { buildGradescopeZip } from '../support/gradescope-zip.js';

/** A gradescope_data.zip of its own (`label` goes into hostname.txt) whose grader sleeps, then scores 10/10. */
export function sleepingGraderZip(label: string, seconds: number): Promise<Uint8Array> {
  const results = { score: 10, tests: [{ name: 'slept', score: 10, max_score: 10, output: '' }] };
  return buildGradescopeZip({
    hostname: `${label}\n`,
    sourceFiles: {
      'setup.sh': '#!/usr/bin/env bash\nset -euo pipefail\n',
      run_autograder: [
        '#!/usr/bin/env bash',
        'set -euo pipefail',
        `sleep ${String(seconds)}`,
        'mkdir -p /autograder/results',
        `echo '${JSON.stringify(results)}' > /autograder/results/results.json`,
        '',
      ].join('\n'),
    },
  });
}
