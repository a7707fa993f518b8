// The child process of bench/cpu-sampler-process.ts: runs a CpuSampler as its parent asks, over IPC.
import { CpuSampler } from './cpu-breakdown.js';
import type { SamplerReply, SamplerRequest } from './cpu-sampler-process.js';

let sampler: CpuSampler | undefined;
const reply = (message: SamplerReply) => process.send?.(message);

process.on('message', (message: SamplerRequest) => {
  void (async () => {
    if (message.type === 'start') {
      sampler = new CpuSampler(message.options);
      await sampler.start();
      reply({ type: 'started' });
    } else {
      if (!sampler) throw new Error('stop before start');
      reply({ type: 'stopped', breakdown: await sampler.stop(message.graderCpuSec) });
    }
  })().catch((error: unknown) => {
    process.stderr.write(`cpu sampler: ${String(error)}\n`);
    process.exit(1);
  });
});
