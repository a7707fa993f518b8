// Why runs miss their deadline on a capacity setting: replays one setting's policy (in this process, through
// simulate.ts) and, for each run the slot queue started after its deadline, looks at the instant it was due: who
// really held each candidate's slots then, and whether the bookings the planner read showed them there.
//
//   npm run bench:misses -- --from=2023-01-01 --to=2023-03-01 [--setting=original-3-nautilus]
//     [--policy=spatiotemporal] [--slacks=0,1] [--verbose]
import { parseArgs } from 'node:util';
import { DEFAULT_POWER_MODEL } from '../src/carbon/accounting.js';
import { DEFAULT_FORECAST_MODEL, forecastModels } from '../src/carbon/forecast-models.js';
import { loadRegionsConfig } from '../src/carbon/regions.js';
import { loadTraceDirectory, tracesDirFromEnv } from '../src/carbon/trace-file.js';
import type { PolicyName } from '../src/scheduling/policies.js';
import { generateSubmissions } from './arrivals.js';
import { createRng } from './rng.js';
import { buildSettings } from './settings.js';
import { type BookedRun, simulate } from './simulate.js';
import { type QueuedStart, queuedStarts } from './slot-queue.js';

const HOUR_MS = 3_600_000;
const { values: args } = parseArgs({
  options: {
    from: { type: 'string', default: '2023-01-01' },
    to: { type: 'string', default: '2023-03-01' },
    setting: { type: 'string', default: 'original-3-nautilus' },
    policy: { type: 'string', default: 'spatiotemporal' },
    slacks: { type: 'string', default: '0,1' },
    verbose: { type: 'boolean', default: false },
  },
});
const fromMs = Date.parse(args.from);
const toMs = Date.parse(args.to);
const year = generateSubmissions(createRng(2023));
const setting = buildSettings(await loadRegionsConfig(), year).find((s) => s.name === args.setting);
if (!setting) throw new Error(`no setting ${args.setting}`);
const submissions = year.filter((s) => s.receivedMs >= fromMs && s.receivedMs < toMs);
const zones = [...new Set(setting.candidates.map((c) => c.zone))];
const capacity = new Map(setting.candidates.map((c) => [c.id, c.capacity ?? Infinity]));

type Holder = 'shown' | 'overrun' | 'started late' | 'spilled here' | 'planned late';
const worlds: Array<{ slackMs: number; runs: readonly BookedRun[]; starts: readonly QueuedStart[] }> = [];
await simulate({
  variant: 'diagnose',
  setting,
  homeIds: [setting.candidates[0]!.id],
  slacksMs: args.slacks.split(',').map((h) => Number(h) * HOUR_MS),
  policies: [args.policy as PolicyName],
  dueGraceMs: null,
  replan: true,
  exactHomes: false,
  queueOrder: 'edf',
  submissions,
  traces: await loadTraceDirectory(tracesDirFromEnv(process.env), zones),
  model: forecastModels[DEFAULT_FORECAST_MODEL],
  power: DEFAULT_POWER_MODEL,
  onSlotQueue: (world) => worlds.push(world),
});

for (const { slackMs, runs, starts } of worlds) {
  const counts = new Map<string, number>();
  const add = (key: string, n = 1) => counts.set(key, (counts.get(key) ?? 0) + n);
  const missed = runs.map((run, i) => starts[i]!.startMs > run.deadlineMs);
  const bookedEnd = (run: BookedRun) => run.plannedStartMs + Math.max(run.bookedDurationMs, 1);
  const holderKind = (run: BookedRun, start: QueuedStart, atMs: number): Holder => {
    if (run.plannedLate) return 'planned late';
    if (start.candidateId !== run.candidateId) return 'spilled here';
    if (start.startMs > run.plannedStartMs) return 'started late';
    return atMs < bookedEnd(run) ? 'shown' : 'overrun';
  };
  runs.forEach((run, i) => {
    if (!missed[i]) return;
    const atMs = run.deadlineMs;
    add(run.plannedLate ? 'misses: no room' : 'misses: queued');
    let trulyFree = 0;
    let bookedFree = 0;
    const kinds = new Map<Holder, number>();
    let heldByMissed = 0;
    for (const [id, slots] of capacity) {
      let running = 0;
      let booked = 0;
      runs.forEach((other, j) => {
        if (j === i) return;
        const start = starts[j]!;
        if (start.candidateId === id && start.startMs <= atMs && atMs < start.startMs + other.durationMs) {
          running += 1;
          const kind = holderKind(other, start, atMs);
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          if (missed[j]) heldByMissed += 1;
        }
        if (other.candidateId === id && other.plannedStartMs <= atMs && atMs < bookedEnd(other)) booked += 1;
      });
      trulyFree += Math.max(0, slots - running);
      bookedFree += Math.max(0, slots - booked);
    }
    const cause = run.plannedLate ? 'no room' : 'queued';
    add(`${cause}: a slot truly free at the deadline`, trulyFree > 0 ? 1 : 0);
    add(`${cause}: plans' bookings (as planned, before starts and holds) showed a free slot`, bookedFree > 0 ? 1 : 0);
    add(`${cause}: some slot held by a run past its estimate`, (kinds.get('overrun') ?? 0) > 0 ? 1 : 0);
    add(
      `${cause}: some slot held by a late (queued/planned-late) or spilled run`,
      (kinds.get('started late') ?? 0) + (kinds.get('planned late') ?? 0) + (kinds.get('spilled here') ?? 0) > 0
        ? 1
        : 0,
    );
    add(`${cause}: some slot held by a run that itself missed`, heldByMissed > 0 ? 1 : 0);
    add(
      `${cause}: every slot held by runs the bookings show there`,
      (kinds.get('shown') ?? 0) === [...capacity.values()].reduce((a, b) => a + b, 0) ? 1 : 0,
    );
    for (const [kind, n] of kinds) add(`${cause}: slot-holders ${kind}`, n);
    if (args.verbose) {
      const holders = [...kinds].map(([k, n]) => `${k} ${n}`).join(', ');
      const waitS = Math.round((starts[i]!.startMs - run.deadlineMs) / 1000);
      console.log(
        `${new Date(atMs).toISOString()} run ${run.runId} est ${Math.round(run.bookedDurationMs / 1000)} s true ${Math.round(run.durationMs / 1000)} s ${cause} on ${run.candidateId} → ${starts[i]!.candidateId} +${waitS} s; truly free ${trulyFree}, booked free ${bookedFree}; holders: ${holders}`,
      );
    }
  });
  const overrunRuns = runs.filter(
    (run, i) => starts[i]!.startMs === run.plannedStartMs && run.durationMs > run.bookedDurationMs,
  ).length;
  console.log(
    `\n${setting.name}, ${args.policy}, ${slackMs / HOUR_MS} h slack, ${runs.length} runs (${overrunRuns} outlast their booking)`,
  );
  for (const [key, n] of [...counts].sort()) console.log(`  ${key.padEnd(70)} ${n}`);
}

// What the misses would be if a run that cannot start by its deadline blocked nobody (ran after the year, as the
// fewest-misses bound assumes): the earliest such run leaves the replay, which is causal, so runs before it keep
// their starts, and the replay runs again until no run that stays misses.
for (const { slackMs, runs } of worlds) {
  // Planned-late runs wanted to start at their deadline too: they queue then, and may spill anywhere.
  const everyId = [...capacity.keys()];
  const kept = runs.map((run) =>
    run.plannedLate
      ? {
          ...run,
          plannedStartMs: run.deadlineMs,
          queuedAtMs: run.deadlineMs,
          spillTo: everyId.filter((id) => id !== run.candidateId),
        }
      : run,
  );
  let deferred = 0;
  for (let round = 0; round < runs.length; round += 1) {
    const starts = queuedStarts(kept, (id) => capacity.get(id), 'edf');
    let first = -1;
    kept.forEach((run, i) => {
      if (starts[i]!.startMs > run.deadlineMs && (first < 0 || run.deadlineMs < kept[first]!.deadlineMs)) first = i;
    });
    if (first < 0) break;
    kept.splice(first, 1);
    deferred += 1;
  }
  console.log(`${slackMs / HOUR_MS} h: if missed runs blocked nobody, ${deferred} misses (planned late or deferred)`);
}

// A what-if on the whole fleet as identical slots (at 0-h slack a moving policy may start a run on any region's
// free slot, and spills there): a run starts at its arrival when a slot is free, or misses and waits; a run that
// missed takes a freed slot only when `spare` more stay free for arrivals. spare 0 is what the product does.
const slots = [...capacity.values()].reduce((a, b) => a + b, 0);
for (const spare of [0, 1, 2]) {
  const ends: number[] = [];
  const late: number[] = [];
  let misses = 0;
  let longestWaitMs = 0;
  const startLate = (atMs: number, force: boolean) => {
    while (late.length > 0 && slots - ends.length > (force ? 0 : spare)) {
      const run = submissions[late.shift()!]!;
      longestWaitMs = Math.max(longestWaitMs, atMs - run.receivedMs);
      ends.push(atMs + run.durationMs);
    }
  };
  submissions.forEach((run, index) => {
    ends.sort((a, b) => a - b);
    while (ends.length > 0 && ends[0]! <= run.receivedMs) {
      const atMs = ends.shift()!;
      startLate(atMs, false);
      ends.sort((a, b) => a - b);
    }
    if (ends.length < slots) ends.push(run.receivedMs + run.durationMs);
    else {
      misses += 1;
      late.push(index);
    }
  });
  console.log(
    `fleet of ${slots} slots, 0 h: runs that missed wait for ${spare} spare slot(s): ${misses} misses, longest wait of a missed run ${Math.round(longestWaitMs / 1000)} s`,
  );
}
