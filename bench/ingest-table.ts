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
  /** Measured before and after the scenarios. */
  temporalStarts: RateResult[];
  scenarios: ScenarioResult[];
}

const HEADERS = ['scenario', 'acked/s', 'stored/s', 'started/s', 'p50 ms', 'p95 ms', 'tail ms', 'lost', 'dup'];

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

export function formatIngestReport(report: IngestReport): string {
  const rows = report.scenarios.map((s) => [
    s.name,
    fixed(s.ackedPerSec, 1),
    fixed(s.storedPerSec, 1),
    fixed(s.startedPerSec, 1),
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
    'tail = last stored − last publish; started/s = workflows started ÷ (last start − first start)',
    '',
    line(HEADERS),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `store-only baseline (one INSERT per message, committed each): small ${fixed(report.storeOnly.small.perSecond, 1)}/s, ` +
      `1 MB ${fixed(report.storeOnly.large.perSecond, 1)}/s`,
    `Temporal's own start rate (same server, 1,000 starts, 32 at once), before / after the scenarios: ` +
      `${report.temporalStarts.map((r) => `${fixed(r.perSecond, 1)}/s`).join(' / ')}`,
  ];
  const ownRate = Math.max(...report.temporalStarts.map((r) => r.perSecond));
  for (const s of report.scenarios) {
    if (!s.outage) continue;
    const ratio = s.outage.drainPerSec / ownRate;
    out.push(
      `${s.name}: Temporal down ${fixed(s.outage.downMs / 1000, 1)} s (${s.outage.startedWhileDown} started while it ` +
        `was stopping); first pending start ${fixed(s.outage.resumeMs)} ms after it answered again; the backlog ` +
        `started at ${fixed(s.outage.drainPerSec, 1)}/s = ${fixed(ratio * 100)} % of Temporal's own (better) rate`,
    );
  }
  return out.join('\n');
}
