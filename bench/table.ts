// Plain-text tables of the benchmark summaries.
import type { PolicySummary, SettingSummary } from './summarize.js';

const HEADERS = [
  'slack',
  'policy',
  'kgCO2',
  'vs home',
  'vs best static',
  'oracle vs home',
  'of oracle',
  'of own-class oracle',
  'constrained vs home',
  'of constrained',
  'missed',
  'fewest possible misses (instant-exact)',
  'no room+queued',
  'spilled',
  'max queue s',
  'peak util',
  'plans/run',
  'plan ms/run',
];

function percent(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(1)}%`;
}

function cells(row: PolicySummary): string[] {
  return [
    `${row.slackHours} h`,
    row.policy,
    row.emissionsKgCo2.toFixed(3),
    percent(row.savingVsHomePct),
    percent(row.savingVsBestStaticPct),
    percent(row.oracleSavingVsHomePct),
    percent(row.fractionOfOraclePct),
    row.policy.endsWith('oracle') ? '-' : percent(row.fractionOfOwnClassOraclePct),
    percent(row.constrainedOracleSavingVsHomePct),
    percent(row.fractionOfConstrainedOraclePct),
    String(row.deadlineMisses),
    row.fewestPossibleMisses === null ? '-' : String(row.fewestPossibleMisses),
    `${row.missedNoRoom}+${row.missedInSlotQueue}`,
    String(row.spilled),
    String(row.longestQueueWaitSec),
    peak(row.peakUtilisation),
    row.plansPerRun.toFixed(2),
    row.planMsPerRun.toFixed(3),
  ];
}

/** The busiest candidate's peak, e.g. `2.43 US-CAL-CISO`; `-` where every candidate is unlimited. */
function peak(byCandidate: Record<string, number | null>): string {
  const known = Object.entries(byCandidate).filter((entry): entry is [string, number] => entry[1] !== null);
  if (known.length === 0) return '-';
  const [id, value] = known.reduce((a, b) => (b[1] > a[1] ? b : a));
  return `${value.toFixed(2)} ${id}`;
}

export function formatTable(summary: SettingSummary): string {
  const rows = summary.rows.map(cells);
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const out = [
    `${summary.title} [${summary.variant}]: ${summary.submissions} submissions, mean over ${summary.homes.length} homes (${summary.homes.join(', ')})`,
    `best static region in hindsight: ${summary.bestStaticZone} (${summary.bestStaticKgCo2.toFixed(3)} kgCO2)`,
    line(HEADERS),
  ];
  let slack = summary.rows[0]?.slackHours;
  summary.rows.forEach((row, i) => {
    if (row.slackHours !== slack) out.push('');
    slack = row.slackHours;
    out.push(line(rows[i] ?? []));
  });
  return out.join('\n');
}
