// `npm run bench:carbon`: a year (2023) of real grid traces, a seeded submission model (bench/arrivals.ts), and
// the placement code the workflow uses (planPlacement, computeDeadline, estimateDuration, nextPlanningMs, the trace
// provider and its forecast model). Prints tables (or `--json`) and writes bench/out/carbon.svg and .png.
//
// Settings: the 11 US trace zones as candidates, each in turn the home; the original's 3 regions likewise.
// Per policy and slack (0, 1, 6, 24 h): emissions (mean over homes), saving vs immediate-home, vs the best single
// static region in hindsight, and the share of the oracle's saving. The oracle plans with the same candidates and
// deadline but sees the true intensities and the true run time (the physical limit). Waiting runs are planned
// again at each hourly forecast refresh, as the workflow does; `plan-once` shows the policy without that.
// `due-date-rule` applies the deadline rule's due-date cap (1 h grace) on top of the slack.
//
// Capacity (bench/settings.ts): each setting also runs with finite capacity (candidates carry `capacity`, runs at
// once): the 11 zones with the deadline-hour peak ≈ 3× each zone's capacity, and the 3 regions with
// Nautilus-like quotas. For those the exact capacity-constrained oracle (bench/constrained-oracle.ts) is solved
// per slack, and the tables add the share of its saving, deadline misses and peak utilisation per candidate;
// docs/carbon-capacity.png charts the share. The replay itself places runs as simulate.ts does.
//
// Options: --quick (headline tables only, 3 homes per setting), --json, --seed=N, --model=<forecast model>, --exact-homes (plan the moving policies for every home too
// instead of once per submission; they see the home only in exact ties, and the totals come out identical),
// --setting=NAME (that setting's headline only) and --slack=H[,H…] (those slacks in hours): a quick look at one
// cell, e.g. the planning time at 24 h slack, `--setting=us-11-zones-scarce --slack=24 --quick`.
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Resvg } from '@resvg/resvg-js';
import { DEFAULT_POWER_MODEL } from '../src/carbon/accounting.js';
import { DEFAULT_FORECAST_MODEL, type ForecastModelName, forecastModels } from '../src/carbon/forecast-models.js';
import { loadRegionsConfig } from '../src/carbon/regions.js';
import { loadTraceDirectory, tracesDirFromEnv } from '../src/carbon/trace-file.js';
import { DEFAULT_DEADLINE_SETTINGS } from '../src/scheduling/deadline.js';
import type { PolicyName } from '../src/scheduling/policies.js';
import { generateSubmissions } from './arrivals.js';
import { constrainedFractionChartSvg, savingsChartSvg } from './chart.js';
import { type ConstrainedOracleTotals, constrainedOracleTotals } from './constrained-oracle-job.js';
import { createRng } from './rng.js';
import { forecastMaeTable, formatMaeTable } from './mae-table.js';
import { runJobs } from './run-jobs.js';
import { US_TRACE_ZONES, buildSettings } from './settings.js';
import type { WorkerInput } from './sim-worker.js';
import type { SimJob, SimResult } from './simulate.js';
import { summarize } from './summarize.js';
import { formatTable } from './table.js';

const HOUR_MS = 3_600_000;
const ALL_POLICIES: PolicyName[] = ['immediate-home', 'spatial', 'temporal', 'spatiotemporal'];

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seed: { type: 'string', default: '2023' },
    model: { type: 'string', default: DEFAULT_FORECAST_MODEL },
    'exact-homes': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    setting: { type: 'string' },
    slack: { type: 'string', default: '0,1,6,24' },
  },
});
const SLACKS_MS = args.slack.split(',').map((hours) => {
  if (!/^\d+(\.\d+)?$/.test(hours.trim())) throw new Error(`--slack takes hours, e.g. 6 or 0,24; got ${hours}`);
  return Number(hours) * HOUR_MS;
});
if (!(args.model in forecastModels)) throw new Error(`unknown forecast model ${args.model}`);
const model = args.model as ForecastModelName;
const seed = Number(args.seed);
const startedAt = Date.now();
const tracesDir = tracesDirFromEnv(process.env);
const submissions = generateSubmissions(createRng(seed));
const allSettings = buildSettings(await loadRegionsConfig(), submissions);
const [us11] = allSettings;
if (!us11) throw new Error('benchmark settings missing');
const settings = allSettings.filter((setting) => args.setting === undefined || setting.name === args.setting);
if (settings.length === 0) {
  throw new Error(`unknown --setting ${args.setting}; one of ${allSettings.map((s) => s.name).join(', ')}`);
}

const ids = (setting: typeof us11) => setting.candidates.map((c) => c.id).slice(0, args.quick ? 3 : undefined);
const exactHomes = args['exact-homes'];
const headline = { slacksMs: SLACKS_MS, policies: ALL_POLICIES, dueGraceMs: null, replan: true, exactHomes };
const variant = {
  slacksMs: [6 * HOUR_MS, 24 * HOUR_MS],
  policies: ['immediate-home', 'spatiotemporal'] as PolicyName[],
};
const jobs: SimJob[] = settings.map((setting) => ({
  variant: 'headline',
  setting,
  homeIds: ids(setting),
  ...headline,
}));
if (!args.quick && args.setting === undefined) {
  jobs.push(
    {
      variant: 'due-date-rule',
      setting: us11,
      homeIds: ids(us11),
      ...headline,
      ...variant,
      dueGraceMs: DEFAULT_DEADLINE_SETTINGS.dueGraceMs,
    },
    { variant: 'plan-once', setting: us11, homeIds: ids(us11), ...headline, ...variant, replan: false },
  );
}
const running = runJobs(jobs.map((job): WorkerInput => ({ job, seed, model, tracesDir })));
const traces = await loadTraceDirectory(tracesDir, US_TRACE_ZONES);
const maeRows = forecastMaeTable(traces);
// The constrained oracles run on this thread while the workers replay.
const constrained = new Map<string, ConstrainedOracleTotals[]>();
for (const setting of settings.filter((s) => s.candidates.some((c) => c.capacity !== undefined))) {
  constrained.set(
    setting.name,
    await constrainedOracleTotals(setting, submissions, traces, SLACKS_MS, DEFAULT_POWER_MODEL),
  );
}
const results = await running;

const groups = new Map<string, SimResult[]>();
for (const result of results) {
  const key = `${result.job.variant}/${result.job.setting.name}`;
  groups.set(key, [...(groups.get(key) ?? []), result]);
}
const summaries = [...groups.values()].map((group) =>
  summarize(group, group[0]?.job.variant === 'headline' ? constrained.get(group[0].job.setting.name) : undefined),
);
const headlines = summaries.filter((summary) => summary.variant === 'headline');
await mkdir(new URL('./out/', import.meta.url), { recursive: true });
const chartSvg = savingsChartSvg(headlines);
const chartUrl = new URL('./out/carbon.png', import.meta.url);
await writeFile(new URL('./out/carbon.svg', import.meta.url), chartSvg);
await writeFile(chartUrl, new Resvg(chartSvg).render().asPng());
const capacityChartUrl = new URL('../docs/carbon-capacity.png', import.meta.url);
const capacitySvg = constrainedFractionChartSvg(headlines.filter((summary) => constrained.has(summary.name)));
await writeFile(capacityChartUrl, new Resvg(capacitySvg).render().asPng());

const meta = {
  seed,
  forecastModel: model,
  forecastModelDescription: forecastModels[model].description,
  arrivals:
    'bench/arrivals.ts: 4 terms, weekly assignments, 70 % of first submissions Exponential(10 h) before the due date',
  submissions: summaries[0]?.submissions ?? 0,
  replanEveryHour: true,
  exactHomes,
  year: 2023,
  slacksHours: SLACKS_MS.map((ms) => ms / HOUR_MS),
  powerModel: DEFAULT_POWER_MODEL,
  tracesDir,
  dueGraceHoursInDueDateVariant: DEFAULT_DEADLINE_SETTINGS.dueGraceMs / HOUR_MS,
  chart: chartUrl.pathname,
  capacityChart: capacityChartUrl.pathname,
  quick: args.quick,
  constrainedOracle: Object.fromEntries(
    [...constrained].map(([name, totals]) => [
      name,
      totals.map(({ slackMs, lpComponents, largestLpColumns, rounds, elapsedSec }) => ({
        slackHours: slackMs / HOUR_MS,
        lpComponents,
        largestLpColumns,
        rounds,
        elapsedSec,
      })),
    ]),
  ),
  threads: availableParallelism(),
  elapsedSec: Math.round((Date.now() - startedAt) / 100) / 10,
};
if (args.json) {
  console.log(JSON.stringify({ meta, forecastMae: maeRows, settings: summaries }, null, 2));
} else {
  console.log(`Carbon benchmark, 2023 traces, seed ${seed}, forecast ${model} (${meta.forecastModelDescription}),`);
  console.log('plans again at each hourly forecast refresh; savings are means over homes.\n');
  for (const summary of summaries) console.log(`${formatTable(summary)}\n`);
  console.log(formatMaeTable(maeRows));
  console.log(
    `jobs: ${results.map((r) => `${r.job.variant}/${r.job.setting.name}/${r.job.homeIds.length} homes ${r.elapsedSec} s`).join(', ')}`,
  );
  for (const [name, totals] of Object.entries(meta.constrainedOracle)) {
    const parts = totals.map(
      (t) =>
        `${t.slackHours} h: ${t.elapsedSec} s, ${t.rounds} rounds, ${t.lpComponents} LPs (≤ ${t.largestLpColumns} columns)`,
    );
    console.log(`constrained oracle ${name}: ${parts.join('; ')}`);
  }
  console.log(
    `\ncharts: ${meta.chart}, ${meta.capacityChart}   elapsed: ${meta.elapsedSec} s on ${meta.threads} threads`,
  );
}
