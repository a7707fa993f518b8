// Worker thread: replays one benchmark job and posts its totals back.
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_POWER_MODEL } from '../src/carbon/accounting.js';
import { type ForecastModelName, forecastModels } from '../src/carbon/forecast-models.js';
import { loadTraceDirectory } from '../src/carbon/trace-file.js';
import { generateSubmissions } from './arrivals.js';
import { createRng } from './rng.js';
import { type SimJob, simulate } from './simulate.js';

export interface WorkerInput {
  job: SimJob;
  seed: number;
  model: ForecastModelName;
  tracesDir: string;
  /** Only submissions received in [fromMs, toMs) (`--from`/`--to`); the whole year without. */
  receivedRange?: { fromMs: number; toMs: number };
}

const input = workerData as WorkerInput;
const zones = [...new Set(input.job.setting.candidates.map((c) => c.zone))];
const traces = await loadTraceDirectory(input.tracesDir, zones);
const result = await simulate({
  ...input.job,
  submissions: generateSubmissions(createRng(input.seed)).filter(
    (s) =>
      !input.receivedRange || (s.receivedMs >= input.receivedRange.fromMs && s.receivedMs < input.receivedRange.toMs),
  ),
  traces,
  model: forecastModels[input.model],
  power: DEFAULT_POWER_MODEL,
});
parentPort?.postMessage(result);
