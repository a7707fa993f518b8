// `npm run bench:oracle`: the fast constrained oracle (pricing over LP duals, independent components) against one
// LP over every column, on the first N runs of the year under each finite-capacity setting, same run, same
// machine. Both solve the same LP exactly, so their totals and misses must agree; the table shows the time ratio.
//
// Options: --runs=2419 (the item-2 measurement's size), --slack-hours=24, --json.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_POWER_MODEL } from '../src/carbon/accounting.js';
import { loadRegionsConfig } from '../src/carbon/regions.js';
import { loadTraceDirectory, tracesDirFromEnv } from '../src/carbon/trace-file.js';
import { generateSubmissions } from './arrivals.js';
import { oracleInput } from './constrained-oracle-job.js';
import { constrainedOptimum } from './constrained-oracle.js';
import { optimumByFullLp } from './full-lp-oracle.js';
import { createRng } from './rng.js';
import { buildSettings, US_TRACE_ZONES } from './settings.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '2419' },
    'slack-hours': { type: 'string', default: '24' },
    seed: { type: 'string', default: '2023' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const slackHours = Number(args['slack-hours']);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1, got ${args.runs}`);
if (!(slackHours >= 0)) throw new Error(`--slack-hours must be ≥ 0, got ${args['slack-hours']}`);

const submissions = generateSubmissions(createRng(Number(args.seed))).slice(0, runs);
const settings = buildSettings(await loadRegionsConfig(), generateSubmissions(createRng(Number(args.seed))));
const traces = await loadTraceDirectory(tracesDirFromEnv(process.env), US_TRACE_ZONES);
const seconds = (ms: number) => Math.round(ms / 10) / 100;

const rows = [];
for (const setting of settings.filter((s) => s.candidates.some((c) => c.capacity !== undefined))) {
  const input = oracleInput(setting, submissions, traces, slackHours * 3_600_000, DEFAULT_POWER_MODEL);
  const fastStartedMs = performance.now();
  const fast = await constrainedOptimum(input);
  const fastMs = performance.now() - fastStartedMs;
  const fullStartedMs = performance.now();
  const full = await optimumByFullLp(input);
  const fullMs = performance.now() - fullStartedMs;
  rows.push({
    setting: setting.name,
    runs: submissions.length,
    slackHours,
    fastSec: seconds(fastMs),
    fullLpSec: seconds(fullMs),
    speedup: Math.round((fullMs / fastMs) * 10) / 10,
    fastGCo2: Math.round(fast.totalGCo2 * 1000) / 1000,
    fullLpGCo2: Math.round(full.totalGCo2 * 1000) / 1000,
    misses: Math.round(fast.misses * 1000) / 1000,
    agree:
      Math.abs(fast.totalGCo2 - full.totalGCo2) <= 1e-9 * full.totalGCo2 && Math.abs(fast.misses - full.misses) <= 1e-6,
    rounds: fast.rounds,
    largestLpColumns: fast.largestLpColumns,
  });
}
if (args.json) {
  console.log(JSON.stringify({ meta: { threads: availableParallelism(), seed: Number(args.seed) }, rows }, null, 2));
} else {
  const headers = Object.keys(rows[0] ?? {});
  const table = [headers, ...rows.map((row) => Object.values(row).map(String))];
  const widths = headers.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? '').length)));
  console.log(`constrained oracle, fast vs one full LP, first ${runs} runs of 2023, ${slackHours} h slack`);
  for (const cells of table) console.log(cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  '));
}
