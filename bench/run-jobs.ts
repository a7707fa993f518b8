// Runs benchmark jobs on worker threads, at most one per core.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerInput } from './sim-worker.js';
import type { SimResult } from './simulate.js';

function runOne(input: WorkerInput): Promise<SimResult> {
  return new Promise((resolve, reject) => {
    // Worker threads do not inherit tsx's loader: register it, then load the TypeScript worker module.
    const entry = new URL('./sim-worker.ts', import.meta.url).href;
    const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: input });
    worker.once('message', (result: SimResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`benchmark worker exited with ${code}`));
    });
  });
}

/** Results in the order of `inputs`. */
export async function runJobs(inputs: readonly WorkerInput[], threads = availableParallelism()): Promise<SimResult[]> {
  const results = new Array<SimResult>(inputs.length);
  let nextIndex = 0;
  const lane = async () => {
    while (nextIndex < inputs.length) {
      const index = nextIndex++;
      results[index] = await runOne(inputs[index] as WorkerInput);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(threads, inputs.length)) }, lane));
  return results;
}
