// bench:batch's CPU sampler in a child process of its own: reading /proc every second costs tens of ms of CPU,
// which on the bench process's main thread would be counted (and felt) as GreenGrader's. The child's own CPU is
// reported as its own row, outside the stack's overhead.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CpuBreakdown, SamplerOptions } from './cpu-breakdown.js';

/** Parent → child: begin sampling with these options; end and report, given the graders' own CPU. */
export type SamplerRequest = { type: 'start'; options: SamplerOptions } | { type: 'stop'; graderCpuSec: number };
/** Child → parent: the first sample is taken; the breakdown of the window. */
export type SamplerReply = { type: 'started' } | { type: 'stopped'; breakdown: CpuBreakdown };

export interface RemoteSampler {
  stop(graderCpuSec: number): Promise<CpuBreakdown>;
}

/** Forks the sampler (bench/cpu-sampler-child.ts) and resolves once it took its first sample. */
export async function startSamplerProcess(options: SamplerOptions): Promise<RemoteSampler> {
  // The bench's own loader flags (tsx) come along in execArgv, so the child runs TypeScript as the bench does.
  const child = fork(fileURLToPath(new URL('./cpu-sampler-child.ts', import.meta.url)), { stdio: 'inherit' });
  const request = async (message: SamplerRequest, expected: SamplerReply['type']): Promise<SamplerReply> => {
    child.send(message);
    const [reply] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`the CPU sampler exited (code ${String(code)}) before answering ${message.type}`);
      }),
    ])) as [SamplerReply];
    if (reply.type !== expected) throw new Error(`the CPU sampler answered ${reply.type} to ${message.type}`);
    return reply;
  };
  await request({ type: 'start', options }, 'started');
  return {
    async stop(graderCpuSec) {
      const reply = await request({ type: 'stop', graderCpuSec }, 'stopped');
      child.disconnect();
      if (reply.type !== 'stopped') throw new Error('unreachable');
      return reply.breakdown;
    },
  };
}
