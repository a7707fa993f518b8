import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import Docker from 'dockerode';
import type { ExecutionControl, GraderLimits } from '../../src/executors/executor.js';
import { NODE_LABEL } from '../../src/executors/docker/grader-container.js';
import { graderJob } from '../support/grader-job.js';
import { testDockerExecutor, testGraderLimits } from '../support/test-docker-executor.js';

// The grader is the container's own command and shares its stdin and stdout with the node's control lines and
// the results trailer: these tests hold that a grader can neither see the former nor pass off the latter.
const docker = new Docker();
const nodeName = `command-test-${randomUUID().slice(0, 8)}`;
const executor = testDockerExecutor(docker, nodeName);
const limits: GraderLimits = testGraderLimits({ timeoutSec: 60 });
const control: ExecutionControl = { heartbeat: () => undefined, abortSignal: new AbortController().signal };

/**
 * Reads 32-hex-digit strings out of the memory of the shell that started run_autograder (its grandparent here),
 * the way a grader running as the same user could learn the node's nonce, and prints a trailer for each.
 */
const STEAL_NONCE_AND_FORGE = `python3 - <<'PY'
import base64, os, re
shell = int(open('/proc/%d/stat' % os.getppid()).read().rsplit(')', 1)[1].split()[1])
found = set()
for line in open('/proc/%d/maps' % shell):
    span, perms = line.split()[:2]
    if not perms.startswith('rw'):
        continue
    start, end = (int(x, 16) for x in span.split('-'))
    try:
        with open('/proc/%d/mem' % shell, 'rb') as mem:
            mem.seek(start)
            found.update(re.findall(rb'(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])', mem.read(end - start)))
    except OSError:
        pass
print('candidates', len(found), flush=True)
fake = base64.b64encode(b'{"score": 100}').decode()
for nonce in sorted(found):
    n = nonce.decode()
    print('\\n==== greengrader results %s ====\\npresent\\n%s\\n==== greengrader results end %s ====' % (n, fake, n), flush=True)
PY
python3 -c "import time
t=time.process_time()
while time.process_time()-t < 0.5: pass"
echo '{"score": 1}' > /autograder/results/results.json; echo graded`;

describe("the grader container's own command", () => {
  after(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
    assert.equal(left.length, 0, 'no grading container outlives its run');
  });

  it("gives the grader an empty stdin: the node's go and done lines never reach it", async () => {
    const result = await executor.run(
      graderJob(`echo "stdin bytes: $(cat | wc -c)"; echo '{"score": 2}' > /autograder/results/results.json`, limits),
      control,
    );
    assert.equal(result.outcome, 'completed', result.output);
    assert.equal(result.output, 'stdin bytes: 0\n');
    assert.equal(result.resultsJson?.trim(), '{"score": 2}');
  });

  it('keeps output that ends without a newline exactly as printed, the trailer left out', async () => {
    const result = await executor.run(graderJob(`printf 'to stderr\\n' >&2; printf 'no newline'`, limits), control);
    assert.equal(result.exitCode, 0);
    // stdout and stderr are two streams: the stderr line may land before or after the stdout text.
    assert.equal(result.output.replace('to stderr\n', ''), 'no newline');
  });

  it('charges a grader that killed its parent shell, escaping the CPU reading, the most its CPU limit allows', async () => {
    const result = await executor.run(
      graderJob(
        `python3 -c "import time
t=time.process_time()
while time.process_time()-t < 0.5: pass"
kill -9 $PPID`,
        limits,
      ),
      control,
    );
    assert.equal(result.resultsJson, null);
    assert.ok((result.cpuTimeMs ?? 0) >= 400, `CPU time is not understated: ${result.cpuTimeMs} ms`);
  });

  it('is not fooled by a grader that read the nonce from its parent shell and printed the trailer early', async () => {
    const result = await executor.run(graderJob(STEAL_NONCE_AND_FORGE, limits), control);
    assert.match(result.output, /candidates \d+/);
    assert.notEqual(result.resultsJson?.trim(), '{"score": 100}', 'a forged trailer is never taken for results');
    // Either the trailer's nonce stayed secret (the real results count) or the forgery showed and was refused.
    if (result.resultsJson !== null) assert.equal(result.resultsJson.trim(), '{"score": 1}');
    else assert.match(result.resultsRefusal ?? '', /printed the node's results trailer itself/);
    assert.ok((result.cpuTimeMs ?? 0) >= 400, `CPU time is not understated: ${result.cpuTimeMs} ms`);
  });
});
