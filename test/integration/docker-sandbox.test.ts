import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import Docker from 'dockerode';
import type { AutograderJob, ExecutionControl, GraderLimits } from '../../src/executors/executor.js';
import { assignmentImageTag } from '../../src/executors/docker/assignment-image.js';
import { DockerExecutor, type DockerExecutorOptions } from '../../src/executors/docker/docker-executor.js';
import { NODE_LABEL, PURPOSE_LABEL } from '../../src/executors/docker/grader-container.js';
import { requireEnv, testGraderRuntime } from '../support/env.js';
import { graderJob, jobWithSetup } from '../support/grader-job.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const docker = new Docker();
const nodeName = `sandbox-test-${randomUUID().slice(0, 8)}`;
const limits: GraderLimits = {
  timeoutSec: 60,
  memoryBytes: 64 * MiB,
  nanoCpus: 1_000_000_000,
  pidsLimit: 64,
  outputMaxBytes: 16 * 1024,
  resultsMaxBytes: 4096,
};
const job = (script: string): AutograderJob => graderJob(script, limits);
const control: ExecutionControl = { heartbeat: () => undefined, abortSignal: new AbortController().signal };

function executor(overrides: Partial<DockerExecutorOptions> = {}): DockerExecutor {
  return new DockerExecutor(docker, {
    nodeName,
    baseImage: requireEnv('GG_TEST_BASE_IMAGE'),
    buildNetworkMode: 'none',
    buildTimeoutSec: 60,
    buildLimits: { memoryBytes: 256 * MiB, nanoCpus: 1_000_000_000, pidsLimit: 64 },
    sandbox: { diskLimitBytes: GiB, nofileLimit: 256, runtime: testGraderRuntime() }, // the default disk cap
    graderSlots: 2,
    ...overrides,
  });
}

/** Waits, bounded, until this node has a grader container running. */
async function graderContainersStarted(): Promise<Docker.ContainerInfo[]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const running = await docker.listContainers({ filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
    if (running.length > 0) return running;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no grader container started within 60 s');
}

/** Free bytes of the filesystem holding Docker's data: what a grader filling its layer would eat. */
async function freeBytes(): Promise<number> {
  const stats = await statfs('/var/lib/docker');
  return stats.bavail * stats.bsize;
}

describe('the Docker sandbox', () => {
  after(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
    assert.equal(left.length, 0, 'no grading container outlives its run');
  });

  it('stops a grader writing 3 GiB at the 1 GiB cap with ENOSPC, leaving the node disk as it was', async () => {
    const before = await freeBytes();
    let lowest = before;
    const result = await executor().run(
      job(`dd if=/dev/zero of=/autograder/fill bs=1M count=3072 2>&1; ls -l /autograder/fill
rm -f /autograder/fill
dd if=/dev/zero of=/tmp/fill bs=1M count=3072 2>&1; rm -f /tmp/fill
touch /usr/local/escape 2>&1
echo "nofile=$(ulimit -n) fsize_kib=$(ulimit -f) core=$(ulimit -c unlimited 2>/dev/null; ulimit -c)"`),
      {
        ...control,
        // Sampled while the grader writes, not only after: a transient fill would hurt the node just the same.
        heartbeat: () => void freeBytes().then((free) => (lowest = Math.min(lowest, free))),
      },
    );
    assert.equal(result.outcome, 'completed', result.output);
    const enospc = result.output.match(/No space left on device/g) ?? [];
    assert.equal(enospc.length, 2, `both /autograder and /tmp are capped:\n${result.output}`);
    const size = Number(/ (\d+) [A-Z][a-z]{2} +\d+ [\d:]+ \/autograder\/fill/.exec(result.output)?.[1]);
    assert.ok(size <= GiB && size > GiB - 64 * MiB, `the file stopped at the cap: ${size} bytes`);
    assert.match(result.output, /Read-only file system/, 'the image itself is read-only');
    assert.match(
      result.output,
      /nofile=256 fsize_kib=\d+ core=0$/m,
      'no core dumps to the host, not even raised by the grader',
    );
    const after = await freeBytes();
    const drift = Math.max(before - lowest, Math.abs(before - after));
    assert.ok(drift < 100 * MiB, `node free space moved by ${(drift / MiB).toFixed(0)} MiB`);
  });

  it('refuses a sparse results.json far over its cap unread, and a 1 TB one cannot even be made', async () => {
    const started = Date.now();
    const result = await executor().run(
      job(`truncate -s 1T /autograder/results/results.json; echo "1T exit $?"
truncate -s 1G /autograder/results/results.json; echo "1G exit $?"`),
      control,
    );
    assert.match(result.output, /1T exit (?!0)\d+/, 'the fsize ulimit refuses a 1 TB file');
    assert.match(result.output, /1G exit 0/);
    assert.equal(result.resultsJson, null);
    assert.equal(result.resultsTruncated, true);
    assert.match(result.output, /results\.json is 1073741824 bytes, over the 4096-byte cap: refused unread/);
    assert.equal(result.resultsRefusal, 'results.json is larger than 4096 bytes (1073741824 bytes): refused unread');
    assert.ok(Date.now() - started < 30_000, `refused in ${Date.now() - started} ms`);
  });

  it('refuses a results.json that is a FIFO or a symlink to a device at once, well before the timeout', async () => {
    for (const make of [
      'mkfifo /autograder/results/results.json',
      'ln -s /dev/zero /autograder/results/results.json',
    ]) {
      const started = Date.now();
      const result = await executor().run(job(`${make} && echo "made"`), control);
      const elapsedMs = Date.now() - started;
      assert.match(result.output, /made/, make);
      assert.equal(result.resultsJson, null, make);
      assert.equal(
        result.resultsRefusal,
        'results.json is not a regular file (a FIFO, device or symlink): refused unread',
        make,
      );
      assert.ok(elapsedMs < limits.timeoutSec * 1000, `${make}: refused after ${elapsedMs} ms`);
    }
  });

  it('measures CPU time from the engine: a forged CPU-times file and a forged trailer change nothing', async () => {
    const result = await executor().run(
      job(`python3 -c "import time
t=time.process_time()
while time.process_time()-t < 0.5: pass"
printf '0m0.00s 0m0.00s\\n999m0.00s 999m0.00s\\n' > /tmp/.greengrader-cpu-times
printf '\\n==== greengrader trailer v1 ====\\nstage=done\\nexit=0\\ncpu=999m0.00s 999m0.00s\\nresults=present\\neyJzY29yZSI6IDEwMH0K\\n==== greengrader trailer end ====\\n'
echo '{"score": 1}' > /autograder/results/results.json`),
      control,
    );
    assert.equal(result.exitCode, 0);
    assert.ok(result.cpuTimeMs !== null, 'CPU time measured');
    assert.ok(result.cpuTimeMs >= 400 && result.cpuTimeMs < 10_000, `cpu time ${result.cpuTimeMs} ms`);
    assert.equal(result.resultsJson?.trim(), '{"score": 1}', 'results come from the file, not a trailer');
  });

  it('fails a setup.sh fork bomb at the build limits with a clear reason, and the node runs the next grader', async () => {
    const node = executor({ buildTimeoutSec: 20 });
    // A grader inherits its image's labels, the build's among them: only its purpose label tells it from a build.
    const grader = node.run(job(`sleep 2; echo '{"score": 1}' > /autograder/results/results.json`), control);
    const [running] = await graderContainersStarted();
    assert.ok(running?.Labels['greengrader.build'], 'the grader inherited the build label');
    assert.equal(running?.Labels[PURPOSE_LABEL], 'grader');
    const bombJob = jobWithSetup('bomb() { bomb | bomb & }; bomb; wait\n', limits);
    const bomb = await node.run(bombJob, control);
    assert.equal(bomb.outcome, 'build-failed');
    assert.match(bomb.output, /process limit of 64 \(a fork bomb\?\)/);
    const buildLabel = `greengrader.build=${assignmentImageTag(bombJob.assignmentId, bombJob.sourceHash)}`;
    // Only this build's containers: other test files build images at the same time.
    const builds = await docker.listContainers({
      all: true,
      filters: { label: [`${PURPOSE_LABEL}=image-build`, buildLabel] },
    });
    assert.deepEqual(builds, [], 'no build container is left');
    assert.equal((await grader).outcome, 'completed');
    const next = await node.run(job(`echo '{"score": 2}' > /autograder/results/results.json`), control);
    assert.equal(next.outcome, 'completed');
    assert.equal(next.resultsJson?.trim(), '{"score": 2}');
  });

  it('builds on a network of its own with inter-container traffic off', async () => {
    const network = `gg-build-test-${randomUUID().slice(0, 8)}`;
    try {
      const result = await executor({ buildNetworkMode: network }).run(
        graderJob('echo ok', limits, {
          sourceHash: randomUUID().replace(/-/g, ''),
          sourceFiles: new Map([
            ['run_autograder', { bytes: Buffer.from('#!/bin/bash\ncat /autograder/source/nets\n'), mode: 0o755 }],
            ['setup.sh', { bytes: Buffer.from('ls /sys/class/net > nets\n') }],
          ]),
        }),
        control,
      );
      assert.equal(result.outcome, 'completed', result.output);
      assert.match(result.output, /eth0/, 'setup.sh had a network');
      const info = (await docker.getNetwork(network).inspect()) as { Options?: Record<string, string> };
      assert.equal(info.Options?.['com.docker.network.bridge.enable_icc'], 'false');
      const image = await docker.getImage(result.imageTag).inspect();
      const base = await docker.getImage(requireEnv('GG_TEST_BASE_IMAGE')).inspect();
      assert.deepEqual(image.Config.Cmd, base.Config.Cmd, 'the image keeps its base command, not the setup script');
    } finally {
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    }
  });
});
