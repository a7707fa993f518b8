import type Docker from 'dockerode';
import type { GraderLimits } from '../../src/executors/executor.js';
import { DockerExecutor, type DockerExecutorOptions } from '../../src/executors/docker/docker-executor.js';
import { requireEnv, testGraderRuntime } from './env.js';

/** Small grader limits for executor tests; each test file overrides what it exercises. */
export function testGraderLimits(overrides: Partial<GraderLimits> = {}): GraderLimits {
  return {
    timeoutSec: 5,
    memoryBytes: 64 * 1024 * 1024,
    nanoCpus: 1_000_000_000,
    pidsLimit: 64,
    outputMaxBytes: 4096,
    resultsMaxBytes: 4096,
    ...overrides,
  };
}

/** A Docker executor on the test base image, building offline, as a node named `nodeName` would run it. */
export function testDockerExecutor(
  docker: Docker,
  nodeName: string,
  overrides: Partial<DockerExecutorOptions> = {},
): DockerExecutor {
  return new DockerExecutor(docker, {
    nodeName,
    baseImage: requireEnv('GG_TEST_BASE_IMAGE'),
    buildNetworkMode: 'none',
    buildTimeoutSec: 120,
    buildLimits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_000_000_000, pidsLimit: 128 },
    sandbox: { diskLimitBytes: 64 * 1024 * 1024, nofileLimit: 256, runtime: testGraderRuntime() },
    graderSlots: 2,
    ...overrides,
  });
}
