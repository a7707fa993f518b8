// A node's prefetched runs: their containers are prepared while the node's grader slots are busy, yet no more
// graders run at once than it has slots; a prefetched run cancelled while it waits leaves nothing behind.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import type { AutograderExecution, ExecutionControl, GraderLimits } from '../../src/executors/executor.js';
import type { DockerExecutor } from '../../src/executors/docker/docker-executor.js';
import { NODE_LABEL, RUN_LABEL } from '../../src/executors/docker/grader-container.js';
import { graderJob } from '../support/grader-job.js';
import { testDockerExecutor, testGraderLimits } from '../support/test-docker-executor.js';

const docker = new Docker();
const nodeName = `prefetch-test-${randomUUID().slice(0, 8)}`;
const limits: GraderLimits = testGraderLimits({ timeoutSec: 60 });
/** Prints when the grader itself started and ended (host and container share the kernel's clock). */
const TIMED_GRADER = [
  'echo "start $(date +%s%N)"',
  'sleep 2',
  'echo "end $(date +%s%N)"',
  'mkdir -p /autograder/results && echo \'{"score": 1}\' > /autograder/results/results.json',
].join('\n');

/** One run's control, remembering its heartbeat phases and what Docker held for it the first time it waited. */
function trackedRun(executor: DockerExecutor, abort = new AbortController()) {
  const job = graderJob(TIMED_GRADER, limits);
  const phases: string[] = [];
  const seen: { whileWaiting?: Promise<Docker.ContainerInfo[]> } = {};
  const control: ExecutionControl = {
    abortSignal: abort.signal,
    heartbeat: (phase) => {
      if (phases.at(-1) !== phase) phases.push(phase);
      if (phase === 'waiting for a slot' && !seen.whileWaiting) {
        seen.whileWaiting = docker.listContainers({ filters: { label: [`${RUN_LABEL}=${job.runId}`] } });
      }
    },
  };
  return { job, phases, seen, abort, result: executor.run(job, control) };
}

function graderSpan(execution: AutograderExecution): { start: number; end: number } {
  const start = /start (\d+)/.exec(execution.output)?.[1];
  const end = /end (\d+)/.exec(execution.output)?.[1];
  assert.ok(start && end, `grader output has its times: ${execution.output}`);
  return { start: Number(start) / 1e6, end: Number(end) / 1e6 };
}

describe('prefetched runs on a Docker node', () => {
  let executor: DockerExecutor;

  before(async () => {
    executor = testDockerExecutor(docker, nodeName, { graderSlots: 1 });
    // The image is built once up front, so both runs below reach their grader step together.
    const warm = await executor.run(graderJob(TIMED_GRADER, limits), {
      heartbeat: () => undefined,
      abortSignal: new AbortController().signal,
    });
    assert.equal(warm.outcome, 'completed');
  });

  after(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeName}`] } });
    assert.equal(left.length, 0, 'no grading container outlives its run');
  });

  it(
    'prepares the waiting run’s container while the slot is busy, and never runs two graders at once',
    {
      timeout: 120_000,
    },
    async () => {
      const first = trackedRun(executor);
      const second = trackedRun(executor);
      const [a, b] = await Promise.all([first.result, second.result]);
      assert.equal(a.outcome, 'completed');
      assert.equal(b.outcome, 'completed');

      const waiter = [first, second].find((run) => run.phases.includes('waiting for a slot'));
      assert.ok(waiter, `one run waited for the slot: ${first.phases.join(' > ')} / ${second.phases.join(' > ')}`);
      const prepared = (await waiter.seen.whileWaiting) ?? [];
      assert.equal(prepared.length, 1, 'the waiting run already had its container');
      assert.equal(prepared[0]?.State, 'running');

      const spans = [graderSpan(a), graderSpan(b)].sort((x, y) => x.start - y.start);
      const [earlier, later] = spans;
      assert.ok(earlier && later);
      assert.ok(later.start >= earlier.end, `graders overlapped: ${JSON.stringify(spans)}`);
    },
  );

  it(
    'removes the container of a run cancelled while it waits, and hands the slot on',
    { timeout: 120_000 },
    async () => {
      const running = trackedRun(executor);
      const cancelled = trackedRun(executor);
      const cancelWhenWaiting = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const waiting = [running, cancelled].find((run) => run.phases.includes('waiting for a slot'));
          if (!waiting) return;
          clearInterval(timer);
          waiting.abort.abort(new Error('cancelled by test'));
          resolve();
        }, 50);
        setTimeout(() => clearInterval(timer), 60_000).unref();
      });
      await cancelWhenWaiting;
      const outcomes = await Promise.allSettled([running.result, cancelled.result]);
      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(rejected.length, 1, 'exactly the waiting run was cancelled');
      assert.match(String((rejected[0] as PromiseRejectedResult).reason), /cancelled by test/);
      const gone = [running, cancelled].find((run) => run.abort.signal.aborted);
      const left = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${gone?.job.runId}`] } });
      assert.equal(left.length, 0, 'the cancelled run’s prepared container was removed');

      // The slot was not leaked: a next run is admitted without waiting.
      const next = trackedRun(executor);
      assert.equal((await next.result).outcome, 'completed');
      assert.ok(!next.phases.includes('waiting for a slot'), next.phases.join(' > '));
    },
  );
});
