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
// --settings=a,b (only these settings' headline tables; the charts then go to bench/out/ only, docs/ keeps the full
// run's), --slacks=0,1 (hours; default 0,1,6,24), --from=2023-01-01 --to=2023-04-01 (only submissions received in
// that range, for a shorter run; capacities stay sized on the whole year), --oracle-bucket-minutes=5 (the constrained
// oracle's capacity bucket; default 60, a clock hour; shorter is a tighter bound and many more columns per run),
// --queue-order=claim|deadline-first|edf (which waiting run the replayed slot queue serves first; default the
// product's edf, bench/slot-queue.ts). Capacity settings add, at 0-h slack, the fewest misses any
// schedule can have there (bench/fewest-misses.ts): whether the misses left are avoidable at all.
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
import { fewestMissesAtZeroSlack } from './fewest-misses.js';
import { createRng } from './rng.js';
import { forecastMaeTable, formatMaeTable } from './mae-table.js';
import { runJobs } from './run-jobs.js';
import { US_TRACE_ZONES, buildSettings } from './settings.js';
import type { WorkerInput } from './sim-worker.js';
import type { SimJob, SimResult } from './simulate.js';
import { QUEUE_ORDERS, type QueueOrder } from './slot-queue.js';
import { summarize } from './summarize.js';
import { formatTable } from './table.js';

const HOUR_MS = 3_600_000;
const DEFAULT_SLACK_HOURS = '0,1,6,24';
const ALL_POLICIES: PolicyName[] = ['immediate-home', 'spatial', 'temporal', 'spatiotemporal'];

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seed: { type: 'string', default: '2023' },
    model: { type: 'string', default: DEFAULT_FORECAST_MODEL },
    'exact-homes': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    settings: { type: 'string' },
    slacks: { type: 'string', default: DEFAULT_SLACK_HOURS },
    from: { type: 'string' },
    'oracle-bucket-minutes': { type: 'string', default: '60' },
    to: { type: 'string' },
    'queue-order': { type: 'string', default: 'edf' },
  },
});
if (!QUEUE_ORDERS.includes(args['queue-order'] as QueueOrder)) {
  throw new Error(`--queue-order must be one of ${QUEUE_ORDERS.join(', ')}, got ${args['queue-order']}`);
}
const queueOrder = args['queue-order'] as QueueOrder;
if (!(args.model in forecastModels)) throw new Error(`unknown forecast model ${args.model}`);
const model = args.model as ForecastModelName;
const seed = Number(args.seed);
const startedAt = Date.now();
const tracesDir = tracesDirFromEnv(process.env);
const yearSubmissions = generateSubmissions(createRng(seed));
const allSettings = buildSettings(await loadRegionsConfig(), yearSubmissions);
const receivedRange = parseRange(args.from, args.to);
const submissions = receivedRange
  ? yearSubmissions.filter((s) => s.receivedMs >= receivedRange.fromMs && s.receivedMs < receivedRange.toMs)
  : yearSubmissions;
const [us11] = allSettings;
if (!us11) throw new Error('benchmark settings missing');
const settings = selectSettings(allSettings, args.settings);
const SLACKS_MS = parseSlackHours(args.slacks).map((hours) => hours * HOUR_MS);
const oracleBucketMinutes = Number(args['oracle-bucket-minutes']);
if (!(oracleBucketMinutes > 0) || 60 % oracleBucketMinutes !== 0) {
  throw new Error(`--oracle-bucket-minutes must divide an hour, got ${args['oracle-bucket-minutes']}`);
}
const partial =
  oracleBucketMinutes !== 60 ||
  args.settings !== undefined ||
  args.slacks !== DEFAULT_SLACK_HOURS ||
  queueOrder !== 'edf' ||
  receivedRange !== undefined;

const ids = (setting: typeof us11) => setting.candidates.map((c) => c.id).slice(0, args.quick ? 3 : undefined);
const exactHomes = args['exact-homes'];
const headline = {
  slacksMs: SLACKS_MS,
  policies: ALL_POLICIES,
  dueGraceMs: null,
  replan: true,
  exactHomes,
  queueOrder,
};
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
if (!args.quick && settings.includes(us11)) {
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
const running = runJobs(jobs.map((job): WorkerInput => ({ job, seed, model, tracesDir, receivedRange })));
const traces = await loadTraceDirectory(tracesDir, US_TRACE_ZONES);
const maeRows = forecastMaeTable(traces);
// The constrained oracles run on this thread while the workers replay.
const constrained = new Map<string, ConstrainedOracleTotals[]>();
for (const setting of settings.filter((s) => s.candidates.some((c) => c.capacity !== undefined))) {
  constrained.set(
    setting.name,
    await constrainedOracleTotals(
      setting,
      submissions,
      traces,
      SLACKS_MS,
      DEFAULT_POWER_MODEL,
      oracleBucketMinutes * 60_000,
    ),
  );
}
const results = await running;

const groups = new Map<string, SimResult[]>();
for (const result of results) {
  const key = `${result.job.variant}/${result.job.setting.name}`;
  groups.set(key, [...(groups.get(key) ?? []), result]);
}
const summaries = [...groups.values()].map((group) => {
  const job = group[0]?.job;
  if (job?.variant !== 'headline') return summarize(group);
  // Only capacity makes misses: the exact bound at 0-h slack where a setting has it.
  const capped = job.setting.candidates.some((c) => c.capacity !== undefined);
  return summarize(
    group,
    constrained.get(job.setting.name),
    capped ? fewestMissesAtZeroSlack(job.setting.candidates, submissions) : undefined,
  );
});
const headlines = summaries.filter((summary) => summary.variant === 'headline');
await mkdir(new URL('./out/', import.meta.url), { recursive: true });
const chartSvg = savingsChartSvg(headlines);
const chartUrl = new URL('./out/carbon.png', import.meta.url);
await writeFile(new URL('./out/carbon.svg', import.meta.url), chartSvg);
await writeFile(chartUrl, new Resvg(chartSvg).render().asPng());
const capacityChartUrl = new URL(
  partial ? './out/carbon-capacity.png' : '../docs/carbon-capacity.png',
  import.meta.url,
);
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
  oracleBucketMinutes,
  queueOrder,
  fewestPossibleMisses:
    'instant-exact, 0-h slack: N − the most runs that can start at their arrival on the slots in reach (bench/fewest-misses.ts)',
  receivedFrom: args.from ?? null,
  receivedTo: args.to ?? null,
  constrainedOracle: Object.fromEntries(
    [...constrained].map(([name, totals]) => [
      name,
      totals.map(({ slackMs, misses, fractionalRuns, lpComponents, largestLpColumns, rounds, elapsedSec }) => ({
        slackHours: slackMs / HOUR_MS,
        misses,
        fractionalRuns,
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
        `${t.slackHours} h: ${t.misses} misses, ${t.fractionalRuns} split runs, ${t.elapsedSec} s, ${t.rounds} rounds, ${t.lpComponents} LPs (≤ ${t.largestLpColumns} columns)`,
    );
    console.log(`constrained oracle ${name} (misses per replay of the year): ${parts.join('; ')}`);
  }
  console.log(
    `\ncharts: ${meta.chart}, ${meta.capacityChart}   elapsed: ${meta.elapsedSec} s on ${meta.threads} threads`,
  );
}

function selectSettings<T extends { name: string }>(all: readonly T[], names: string | undefined): T[] {
  if (names === undefined) return [...all];
  const wanted = names.split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !all.some((setting) => setting.name === name));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(`--settings: unknown ${unknown.join(', ')}; choose from ${all.map((s) => s.name).join(', ')}`);
  }
  return all.filter((setting) => wanted.includes(setting.name));
}

function parseSlackHours(list: string): number[] {
  const hours = list.split(',').map((part) => Number(part.trim()));
  if (hours.length === 0 || hours.some((h) => !(h >= 0) || !Number.isFinite(h))) {
    throw new Error(`--slacks must be hours ≥ 0 separated by commas, got ${list}`);
  }
  return hours;
}

function parseRange(from: string | undefined, to: string | undefined): { fromMs: number; toMs: number } | undefined {
  if (from === undefined && to === undefined) return undefined;
  const fromMs = from === undefined ? -Infinity : Date.parse(from);
  const toMs = to === undefined ? Infinity : Date.parse(to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || !(fromMs < toMs)) {
    throw new Error(`--from/--to must be dates with from before to, got ${from ?? '(none)'} and ${to ?? '(none)'}`);
  }
  return { fromMs, toMs };
}
