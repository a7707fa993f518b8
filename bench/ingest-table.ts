// bench:ingest's plain-text report.
import { COMPONENTS, COMPOSE_ONLY } from './cpu-breakdown.js';
import type { RateResult } from './ingest-baselines.js';
import type { ScenarioResult } from './ingest-scenario.js';
import type { TemporalKind } from './ingest-temporal.js';

export interface IngestReport {
  machine: { cores: number; loadAverage1m: number };
  /** The server the bridge started its workflows on. */
  temporal: { kind: TemporalKind; description: string };
  bridgeEnv: Record<string, string>;
  storeOnly: { small: RateResult; large: RateResult };
  /**
   * Each with Temporal's own start rate measured right before and right after it; the outage scenario also with
   * the rate of bare starts right after a restart of the server (a control outage before and after it).
   */
  scenarios: (ScenarioResult & {
    ownStarts: { before: RateResult; after: RateResult };
    ownStartsAfterRestart?: { before: RateResult; after?: RateResult };
    /** Bare starts while the same files are published to a topic nobody reads (no bridge): not for the outage. */
    ownStartsWhilePublishing?: RateResult;
  })[];
}

const HEADERS = [
  'scenario',
  'acked/s',
  'stored/s',
  'started/s',
  'own/s',
  'started ÷ own',
  'own publishing/s',
  'started ÷ own publishing',
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
    fixed(s.ownStartsWhilePublishing?.perSecond ?? NaN, 1),
    percent(s.startedPerSec / Math.min(s.ackedPerSec, s.ownStartsWhilePublishing?.perSecond ?? NaN)),
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
    'own publishing/s = bare starts while the same files are published to a topic nobody reads (no bridge, no ' +
      'database writes); started ÷ own publishing compares with min(acked/s, it): starts cannot outrun arrivals',
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
        `started at ${fixed(s.outage.drainPerSec, 1)}/s = ${percent(ratio)} of Temporal's own rate around it (warm)`,
    );
    const control = s.ownStartsAfterRestart;
    if (!control) continue;
    // Both first start to last start, as the backlog's rate is taken.
    const rates = [control.before, control.after].flatMap((r) => (r ? [r.firstToLastPerSecond ?? r.perSecond] : []));
    const restarted = rates.reduce((sum, r) => sum + r, 0) / rates.length;
    const failed = (control.before.failedAttempts ?? 0) + (control.after?.failedAttempts ?? 0);
    out.push(
      `  own rate right after a restart (the same outage, then ${control.before.count} bare starts, 32 at once, ` +
        `sent as it answers): ${rates.map((r) => fixed(r, 1)).join('–')}/s (${failed} calls failed and were ` +
        `tried again); the backlog started at ` +
        `${percent(s.outage.drainPerSec / restarted)} of it (the target's comparison: the server's own rate in the ` +
        `backlog's conditions)`,
    );
  }
  const cpu = formatCpu(report);
  if (cpu) out.push('', cpu);
  return out.join('\n');
}

/** Bench:batch's rows that cannot apply here: no grader runs while messages are ingested. */
const NOT_INGEST = new Set<string>(['grader containers (ideal)', 'containerd-shim (ours)']);

/**
 * Where the 2 cores went from the first publish to the last start: core-ms per message and the share of the
 * machine's cores over the scenario, one pair of columns per scenario (the bridge's own process is "GreenGrader").
 */
function formatCpu(report: IngestReport): string | undefined {
  const measured = report.scenarios.filter((s) => s.cpu);
  if (measured.length === 0) return undefined;
  const cores = report.machine.cores;
  const cell = (s: (typeof measured)[number], coreSec: number) => {
    const cpu = s.cpu as NonNullable<typeof s.cpu>;
    return `${fixed((coreSec * 1000) / s.messages, 2)} ${fixed((100 * coreSec) / (cpu.wallSec * cores))} %`;
  };
  const headers = ['CPU: core-ms per message, share of the cores', ...measured.map((s) => s.name)];
  const body = [
    ...COMPONENTS.filter(
      (c) => !NOT_INGEST.has(c) && (!COMPOSE_ONLY.has(c) || measured.some((s) => (s.cpu?.coreSec[c] ?? 0) > 0)),
    ).map((c) => [c, ...measured.map((s) => cell(s, s.cpu?.coreSec[c] ?? 0))]),
    ['machine busy', ...measured.map((s) => cell(s, s.cpu?.machineBusySec ?? 0))],
    ['seconds sampled', ...measured.map((s) => fixed(s.cpu?.wallSec ?? NaN, 1))],
  ];
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), ...body.map(line)].join('\n');
}
