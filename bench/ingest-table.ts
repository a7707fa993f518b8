// bench:ingest's plain-text report.
import type { RateResult } from './ingest-baselines.js';
import type { ScenarioResult } from './ingest-scenario.js';
import type { TemporalKind } from './ingest-temporal.js';

export interface IngestReport {
  machine: { cores: number; loadAverage1m: number };
  /** The server the bridge started its workflows on. */
  temporal: { kind: TemporalKind; description: string };
  bridgeEnv: Record<string, string>;
  storeOnly: { small: RateResult; large: RateResult };
  /** Each with Temporal's own start rate measured right before and right after it. */
  scenarios: (ScenarioResult & { ownStarts: { before: RateResult; after: RateResult } })[];
}

const HEADERS = [
  'scenario',
  'acked/s',
  'stored/s',
  'started/s',
  'own/s',
  'started ÷ own',
  'p50 ms',
  'p95 ms',
  'tail ms',
  'lost',
  'dup',
];

/** The mean of Temporal's own rate right before and right after a scenario: what its minutes allowed. */
const ownRate = (s: IngestReport['scenarios'][number]) =>
  (s.ownStarts.before.perSecond + s.ownStarts.after.perSecond) / 2;
const percent = (ratio: number) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)} %` : '-');

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

export function formatIngestReport(report: IngestReport): string {
  const rows = report.scenarios.map((s) => [
    s.name,
    fixed(s.ackedPerSec, 1),
    fixed(s.storedPerSec, 1),
    fixed(s.startedPerSec, 1),
    `${fixed(s.ownStarts.before.perSecond, 1)}–${fixed(s.ownStarts.after.perSecond, 1)}`,
    percent(s.startedPerSec / ownRate(s)),
    fixed(s.p50StoredMs),
    fixed(s.p95StoredMs),
    fixed(s.tailMs),
    String(s.lost),
    String(s.duplicates),
  ]);
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const settings = Object.entries(report.bridgeEnv)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const out = [
    `bench:ingest against the ${report.temporal.description}, on ${report.machine.cores} cores ` +
      `(load average ${report.machine.loadAverage1m.toFixed(2)} at start)${settings ? `, bridge ${settings}` : ''}`,
    'publish time = when its mosquitto_pub returned (broker PUBACK); stored = its row committed (NOTIFY);',
    'tail = last stored − last publish; started/s = workflows started ÷ (last start − first start);',
    `own/s = Temporal's own start rate on the same server (bare starts, 32 at once, same load) right before – ` +
      'right after the scenario; started ÷ own compares with their mean',
    '',
    line(HEADERS),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `store-only baseline (one INSERT per message, committed each): small ${fixed(report.storeOnly.small.perSecond, 1)}/s, ` +
      `1 MB ${fixed(report.storeOnly.large.perSecond, 1)}/s`,
  ];
  for (const s of report.scenarios) {
    if (!s.outage) continue;
    const ratio = s.outage.drainPerSec / ownRate(s);
    out.push(
      `${s.name}: Temporal down ${fixed(s.outage.downMs / 1000, 1)} s (${s.outage.startedWhileDown} started while it ` +
        `was stopping); first pending start ${fixed(s.outage.resumeMs)} ms after it answered again; the backlog ` +
        `started at ${fixed(s.outage.drainPerSec, 1)}/s = ${percent(ratio)} of Temporal's own rate around it`,
    );
  }
  return out.join('\n');
}
