// `npm run bench:reserve`: planning time per run against real PostgreSQL as the reservation book fills up to
// 10,000 queued reservations (target ≤ 5 ms per run at 10,000). The fill itself goes through the PostgreSQL ledger
// and the capacity planner; at 10,000 the planner alone is timed on the occupancy then in the book (with, for
// the ratio in the same run, the exhaustive planner it replaced, test/scheduling/reference-capacity-plan.ts), and
// the same number of runs is planned through the placement activity (ledger + planner + recording the plan on
// the run row), the path the workflow takes.
//
//   npm run bench:reserve [-- --queued=10000 --probe=200 --json]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createPlacementActivities } from '../src/activities/placement-activities.js';
import type { ZoneForecast } from '../src/carbon/provider.js';
import { loadRegionsConfig } from '../src/carbon/regions.js';
import { loadConfig } from '../src/config/config.js';
import { createPostgresLedger, type OccupancyRow, occupancyOf, occupancyRead } from '../src/db/reservations.js';
import { gradingRuns, rawPayloads } from '../src/db/schema.js';
import { planWithCapacity } from '../src/scheduling/capacity-plan.js';
import { startMargin } from '../src/scheduling/start-margin.js';
import type { PlacementCandidate, PlacementInput } from '../src/scheduling/policies.js';
import type { PlanningContext } from '../src/shared/placement-types.js';
import type { Occupancy } from '../src/shared/capacity-buckets.js';
import { referenceChoice } from '../test/scheduling/reference-capacity-plan.js';
import { createMigratedDatabase } from '../test/support/migrated-database.js';

const { values: args } = parseArgs({
  options: {
    queued: { type: 'string', default: '10000' },
    probe: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const QUEUED = Number(args.queued);
const PROBE = Number(args.probe);
const HOUR = 3_600_000;
const MIN = 60_000;

// Eight nodes of 8 slots over a 24 h slack: room for ~18,000 runs, so 10,000 queued fill it about half.
const ZONES = ['ZA', 'ZB', 'ZC', 'ZD'];
const candidates: PlacementCandidate[] = Array.from({ length: 8 }, (_, i) => ({
  id: `node-${i}`,
  kind: 'docker-node',
  region: `r${i % ZONES.length}`,
  zone: ZONES[i % ZONES.length]!,
  freeSlots: 8,
  capacity: 8,
}));
const nowMs = Date.now();
const startMs = Math.floor(nowMs / HOUR) * HOUR;
// A daily curve per zone, shifted so each zone is greenest at another hour: plans crowd the green hours.
const forecasts: ZoneForecast[] = ZONES.map((zone, z) => ({
  zone,
  basis: 'average',
  source: 'bench',
  issuedAtMs: startMs,
  startMs,
  stepMs: HOUR,
  valuesGCo2PerKwh: Array.from({ length: 30 }, (_, h) => 300 + 150 * Math.cos(((h + 6 * z) / 24) * 2 * Math.PI)),
}));
const deadlineMs = nowMs + 24 * HOUR;
const capacities = new Map(candidates.map((c) => [c.id, c.capacity!]));
const durationOf = (i: number) => (2 + (i % 4)) * MIN;
const homeOf = (i: number) => candidates[i % candidates.length]!.id;

const inputOf = (i: number): PlacementInput => ({
  policy: 'spatiotemporal',
  candidates,
  homeCandidateId: homeOf(i),
  nowMs,
  deadlineMs,
  estimatedDurationMs: durationOf(i),
  startMarginMs: startMargin(durationOf(i), deadlineMs - nowMs),
  forecasts,
});

const database = await createMigratedDatabase();
try {
  const runIds = await insertRuns(QUEUED + PROBE);
  const ledger = createPostgresLedger(database.db);
  const rows: Array<{ queued: string; path: string; runs: number; meanMs: number; p50Ms: number; p95Ms: number }> = [];
  const step = Math.max(1, Math.floor(QUEUED / 5));
  for (let from = 0; from < QUEUED; from += step) {
    const times: number[] = [];
    for (let i = from; i < Math.min(QUEUED, from + step); i += 1) {
      const began = performance.now();
      await ledger.reserve(
        { runId: runIds[i]!, candidateIds: candidates.map((c) => c.id), fromMs: nowMs, capacities },
        (occ) => planWithCapacity(inputOf(i), occ),
      );
      times.push(performance.now() - began);
    }
    rows.push({ queued: `${from}–${from + times.length}`, path: 'ledger + planner', ...stats(times) });
  }

  // The planner alone on the book as it stands at QUEUED, read once (what the ledger hands it).
  const occupancy = await readOccupancy();
  for (const [path, plan] of [
    ['planner alone', (input: PlacementInput) => planWithCapacity(input, occupancy)],
    ['planner alone (exhaustive, before)', (input: PlacementInput) => referenceChoice(input, occupancy)],
  ] as const) {
    const times: number[] = [];
    for (let i = QUEUED; i < QUEUED + PROBE; i += 1) {
      const input = inputOf(i);
      const began = performance.now();
      plan(input);
      times.push(performance.now() - began);
    }
    rows.push({ queued: `${QUEUED}`, path, ...stats(times) });
  }

  const config = loadConfig({ DATABASE_URL: database.url });
  const activities = createPlacementActivities(database.db, config, await loadRegionsConfig());
  const forecast = { provider: 'bench', forecasts, missing: [], attempts: [], reason: null };
  for (const policy of ['spatiotemporal', 'temporal', 'immediate-home']) {
    const times: number[] = [];
    for (let i = QUEUED; i < QUEUED + PROBE; i += 1) {
      const context: PlanningContext = {
        policy,
        candidates,
        homeCandidateId: homeOf(i),
        deadlineMs,
        deadlineRule: 'max-delay',
        estimatedDurationMs: durationOf(i),
        startMarginMs: startMargin(durationOf(i), deadlineMs - nowMs),
        providers: ['bench'],
        forecastRequest: {
          zones: ZONES,
          fromMs: nowMs,
          toMs: deadlineMs,
          runDurationMs: durationOf(i),
          homeZone: 'ZA',
        },
        refreshMs: HOUR,
      };
      const began = performance.now();
      // Each probe run re-plans (replacing its reservation), so the book stays at QUEUED + PROBE at most.
      await activities.choosePlacement({ runId: runIds[i]!, context, forecast });
      times.push(performance.now() - began);
    }
    rows.push({ queued: `${QUEUED}`, path: `choosePlacement (${policy})`, ...stats(times) });
  }
  if (args.json) console.log(JSON.stringify({ queued: QUEUED, probe: PROBE, targetMs: 5, rows }, null, 2));
  else printTable(rows);
} finally {
  await database.drop();
}

function stats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  const mean = times.reduce((sum, ms) => sum + ms, 0) / Math.max(1, times.length);
  return { runs: times.length, meanMs: round(mean), p50Ms: round(at(0.5)), p95Ms: round(at(0.95)) };
}

function printTable(rows: ReadonlyArray<Record<string, string | number>>) {
  const headers = ['queued', 'path', 'runs', 'meanMs', 'p50Ms', 'p95Ms'];
  const cells = rows.map((row) => headers.map((h) => String(row[h])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(['Planning time per run (target ≤ 5 ms at 10,000 queued)', line(headers), ...cells.map(line)].join('\n'));
}

/** What the ledger hands the planner (greengrader_reserve_begin's read), without its locks. */
async function readOccupancy(): Promise<Occupancy> {
  const { rows } = await database.db.execute<OccupancyRow>(
    occupancyRead(
      candidates.map((c) => c.id),
      nowMs,
    ),
  );
  return occupancyOf(rows, nowMs);
}

async function insertRuns(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += 1000) {
    const shas = Array.from({ length: Math.min(1000, count - offset) }, () => randomUUID());
    await database.db
      .insert(rawPayloads)
      .values(shas.map((sha256) => ({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 'bench' })));
    const rows = await database.db
      .insert(gradingRuns)
      .values(
        shas.map((sha256) => ({
          workflowId: `bench-${sha256}`,
          payloadSha256: sha256,
          trigger: 'ingest' as const,
          receivedAt: new Date(nowMs),
        })),
      )
      .returning({ id: gradingRuns.id });
    ids.push(...rows.map((row) => row.id));
  }
  return ids;
}
