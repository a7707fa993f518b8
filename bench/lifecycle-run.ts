// One grader-like container lifecycle, with the engine calls the node makes per run (runGraderContainer +
// startFilled): create, attach (stdin too), start, wait, one-shot stats while it runs, inspect, remove.
// The command only waits for the node's lines, so what is measured is the lifecycle, not a grader.
import type Docker from 'dockerode';
import { FILL_STDIN } from '../src/executors/docker/start-filled.js';
import { graderHostConfig } from '../src/executors/docker/grader-sandbox.js';

/** One way of running the container; each field names a cut to measure. */
export interface LifecycleVariant {
  name: string;
  runtime: string;
  /** Init: docker-init as PID 1 (the product's setting). */
  init: boolean;
  /** The one-shot stats read of the container's CPU before it ends. */
  stats: boolean;
  /** An inspect after the end (the product reads OOMKilled there). */
  inspect: boolean;
  /** The engine removes the container itself (HostConfig.AutoRemove) instead of a remove call. */
  autoRemove: boolean;
}

const LIMITS = {
  timeoutSec: 60,
  memoryBytes: 512 * 1024 * 1024,
  nanoCpus: 1e9,
  pidsLimit: 256,
  outputMaxBytes: 1024 * 1024,
  resultsMaxBytes: 1024 * 1024,
};
const SANDBOX = { diskLimitBytes: 64 * 1024 * 1024, nofileLimit: 1024 };
const COMMAND = ['/bin/sh', '-c', 'echo ready; read go; read done; exit 0'];

/** Runs one container the variant's way; throws when it does not end with status 0. */
export async function runLifecycle(docker: Docker, image: string, variant: LifecycleVariant): Promise<void> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: COMMAND,
    ...FILL_STDIN,
    NetworkDisabled: true,
    Labels: { 'greengrader.purpose': 'lifecycle-bench' },
    HostConfig: {
      ...graderHostConfig(LIMITS, SANDBOX),
      Init: variant.init,
      Runtime: variant.runtime,
      AutoRemove: variant.autoRemove,
    },
  });
  try {
    const stream = (await container.attach({
      stream: true,
      hijack: true,
      stdin: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadWriteStream & { destroy(): void };
    let seen = '';
    const ready = new Promise<void>((resolve) =>
      stream.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (seen.includes('ready')) resolve();
      }),
    );
    await container.start();
    const exited = container.wait({ condition: variant.autoRemove ? 'removed' : 'not-running' }) as Promise<{
      StatusCode: number;
    }>;
    exited.catch(() => undefined);
    await ready;
    stream.write('go\n');
    if (variant.stats) await container.stats({ stream: false, 'one-shot': true } as { stream: false });
    stream.write('done\n');
    const { StatusCode } = await exited;
    stream.destroy();
    if (StatusCode !== 0) throw new Error(`${variant.name}: the container exited with ${StatusCode}`);
    if (variant.inspect) await container.inspect();
  } finally {
    if (!variant.autoRemove) await container.remove({ force: true });
  }
}
