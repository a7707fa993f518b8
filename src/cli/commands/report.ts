import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { parseInstant } from '../arguments.js';
import { withDatabase } from '../database.js';
import { formatGrams, formatKwh, formatPercent, formatTime, orNone } from '../../shared/format.js';
import { renderTable, type Column } from '../output/table.js';
import { writeJson, writeOut } from '../output/write.js';
import { carbonReport, type CarbonReport, type CarbonTotals } from '../queries/carbon-report.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('carbon totals and savings over completed runs: overall, per policy, per region')
    .option('--since <date>', 'only runs recorded at or after this ISO-8601 date or time', parseInstant)
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (options: { since?: Date; json?: boolean }) => {
      const config = loadConfig();
      const report = await withDatabase(config, (db) => carbonReport(db, { since: options.since }));
      if (options.json) writeJson(report);
      else writeOut(renderReport(report));
    });
}

const totalsColumns: Column<CarbonTotals>[] = [
  { header: 'BASIS', cell: (t) => t.intensityBasis ?? 'unknown' },
  { header: 'RUNS', cell: (t) => String(t.runs), align: 'right' },
  { header: 'ENERGY', cell: (t) => formatKwh(t.energyKwh), align: 'right' },
  { header: 'EMISSIONS', cell: (t) => formatGrams(t.emissionsGCo2), align: 'right' },
  { header: 'COMPARED', cell: (t) => String(t.comparedRuns), align: 'right' },
  { header: 'IMMEDIATE-HOME', cell: (t) => formatGrams(t.counterfactualEmissionsGCo2), align: 'right' },
  { header: 'SAVING', cell: (t) => formatGrams(t.savingGCo2), align: 'right' },
  { header: 'SAVING %', cell: (t) => formatPercent(t.savingFraction), align: 'right' },
];

function renderReport(report: CarbonReport): string {
  const scope = report.since === null ? '' : ` recorded since ${formatTime(report.since)}`;
  const lines = [
    `Carbon report over ${report.completedRuns} completed run(s)${scope}` +
      (report.unaccountedRuns > 0 ? `; ${report.unaccountedRuns} without a carbon receipt are left out.` : '.'),
    'Totals are per intensity basis (average and marginal figures are never added up); "unknown" runs had no',
    'intensity figure and count their energy only. COMPARED runs have an immediate-home counterfactual:',
    'IMMEDIATE-HOME and SAVING sum over those runs only.',
  ];
  if (report.overall.length === 0) return [...lines, '', 'No completed run has a carbon receipt yet.'].join('\n');
  const policy = { header: 'POLICY', cell: (t: { policy: string | null }) => orNone(t.policy) };
  const byPolicy = [policy, ...totalsColumns];
  const region = { header: 'REGION', cell: (t: { region: string | null }) => orNone(t.region) };
  const byRegion = [region, ...totalsColumns];
  const byRegionAndPolicy = [region, policy, ...totalsColumns];
  return [
    ...lines,
    '',
    'Overall',
    renderTable(report.overall, totalsColumns),
    '',
    'By policy',
    renderTable(report.byPolicy, byPolicy),
    '',
    'By region',
    renderTable(report.byRegion, byRegion),
    '',
    'By region and policy',
    renderTable(report.byRegionAndPolicy, byRegionAndPolicy),
  ].join('\n');
}
