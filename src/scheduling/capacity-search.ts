// The search behind planWithCapacity (capacity-plan.ts): the same choice as offering every (start, candidate) of
// the window in time order to `better`, without evaluating most of them. Starts are grouped per candidate and
// clock hour; the lowest forecast value a window starting in that hour can touch bounds every mean inside it from
// below, so hours are searched cheapest bound first and the search stops once no remaining hour can come close
// to the best mean found (branch and bound). Room is busy time per bucket (src/shared/capacity-buckets.ts) and a
// free slot at every instant of the run (src/shared/capacity-instants.ts). Pure.
import { HOUR_MS, type IntensityGrid, meanIntensityOver } from '../carbon/intensity-series.js';
import {
  type BookedSpan,
  CAPACITY_BUCKET_MS,
  bucketOf,
  firstFullBucket,
  type Occupancy,
} from '../shared/capacity-buckets.js';
import { clearOfFull, freeingInstants } from '../shared/capacity-instants.js';
import type { PlacementCandidate } from './policies.js';

export interface SlotOption {
  candidate: PlacementCandidate;
  startMs: number;
  mean: number | null;
}

export interface SlotSearch {
  /** In offer order: among equal options at one start the earlier candidate wins. */
  eligible: readonly PlacementCandidate[];
  occupancy: Occupancy;
  /**
   * Starts offered: `nowMs`, then every bucket boundary after it up to `latestMs`, and on each candidate every
   * instant in between where one of its full periods ends (the earliest a slot frees there).
   */
  nowMs: number;
  latestMs: number;
  durationMs: number;
  /** The forecast whose mean ranks the candidate's starts; none: its means are unknown. */
  gridOf: (candidate: PlacementCandidate) => IntensityGrid | undefined;
  /** Orders two options; `better(a, b)` is whether `a` replaces `b` when offered after it. */
  better: (option: SlotOption, best: SlotOption) => boolean;
}

/** isBetter's tie tolerance is relative 1e-9; twice that bounds it for every mean near the optimum searched. */
const TIE = 2e-9;

/** The option offering the window's starts in time order to `better` would keep; null when none has room. */
export function bestSlotWithin(search: SlotSearch): SlotOption | null {
  return bestKnownSlot(search) ?? earliestSlot(search, search.nowMs, search.latestMs, true);
}

/**
 * The first start after the window (up to the boundary of `lastBucket`) where some candidate has room, and there
 * the option `better` keeps among the candidates in order; null when none has room by then.
 */
export function earliestSlotAfter(search: SlotSearch, lastBucket: number): SlotOption | null {
  return earliestSlot(search, search.latestMs, lastBucket * CAPACITY_BUCKET_MS, false);
}

/** The first start in (afterMs, untilMs] where some candidate has room, and there the option `better` keeps. */
export function earliestSlotBetween(search: SlotSearch, afterMs: number, untilMs: number): SlotOption | null {
  return earliestSlot(search, afterMs, untilMs, false);
}

/** The periods in which the candidate's booked runs hold all its slots, as its ledger keeps them. */
export function fullPeriodsOf(occupancy: Occupancy, candidateId: string): readonly BookedSpan[] {
  return occupancy.full.get(candidateId) ?? [];
}

interface Hour {
  index: number;
  /** Offered starts in this hour, ascending. */
  starts: number[];
}

interface Block {
  order: number;
  candidate: PlacementCandidate;
  grid: IntensityGrid;
  hour: Hour;
  bound: number;
}

/** Options with a known mean, found by branch and bound; null when no start with room has one. */
function bestKnownSlot(search: SlotSearch): SlotOption | null {
  const shared = offeredHours(search);
  const blocks: Block[] = [];
  search.eligible.forEach((candidate, order) => {
    const grid = search.gridOf(candidate);
    if (!grid) return;
    for (const hour of withFreeingInstants(search, candidate, shared)) {
      const bound = lowerBound(grid, hour.starts, search.durationMs);
      if (bound < Infinity) blocks.push({ order, candidate, grid, hour, bound });
    }
  });
  blocks.sort((a, b) => a.bound - b.bound);

  const found: Array<SlotOption & { mean: number; order: number }> = [];
  let least = Infinity;
  let next = 0;
  // Blocks are searched while their bound is within `reach` of the least mean so far, relative to it.
  let reach = 16 * TIE;
  const width = () => reach * Math.max(1, Math.abs(least));
  for (;;) {
    while (next < blocks.length && (least === Infinity || blocks[next]!.bound <= least + width())) {
      const block = blocks[next++]!;
      const room = roomAt(search, block.candidate, block.hour.starts);
      block.hour.starts.forEach((startMs, i) => {
        if (!room[i]) return;
        const mean = meanIntensityOver(block.grid, startMs, startMs + search.durationMs);
        // Providers hand in finite values only (fallback-provider.ts); a NaN would stall the bound, so skip it.
        if (mean === null || Number.isNaN(mean)) return;
        found.push({ candidate: block.candidate, startMs, mean, order: block.order });
        least = Math.min(least, mean);
      });
    }
    if (least === Infinity) return null;
    if (next === blocks.length) return fold(search, found);
    const tie = TIE * Math.max(1, Math.abs(least));
    // A computed mean may sit an ulp below its bound: one tie of margin keeps "found" complete below this.
    const cut = gapAbove(found, least, tie, least + width() - tie);
    if (cut !== null)
      return fold(
        search,
        found.filter((option) => option.mean <= cut - 3 * tie),
      );
    // A chain of near-equal means wider than the search so far (they differ by ~1e-9): look further.
    reach = reach * 4 > 0.25 ? Infinity : reach * 4;
  }
}

/**
 * A level `cut` with no mean in (cut − 3·tie, cut + tie] and every mean up to cut + tie already found. Then the
 * time-ordered offer of all options keeps the same option as that of those below cut − 3·tie alone: the first of
 * them beats every option above cut + tie, and none of those can replace it or anything better afterwards.
 */
function gapAbove(found: ReadonlyArray<{ mean: number }>, least: number, tie: number, complete: number) {
  const means = found.map((option) => option.mean).filter((mean) => mean <= complete);
  means.sort((a, b) => a - b);
  let cut = least + 3 * tie;
  for (const mean of means) {
    if (cut + tie > complete) return null;
    if (mean <= cut - 3 * tie) continue;
    if (mean > cut + tie) break;
    cut = mean + 3 * tie;
  }
  return cut + tie <= complete ? cut : null;
}

/** Offers the options in time order, candidates in order within a start, and keeps what `better` keeps. */
function fold(search: SlotSearch, options: Array<SlotOption & { order: number }>): SlotOption | null {
  options.sort((a, b) => a.startMs - b.startMs || a.order - b.order);
  let best: SlotOption | null = null;
  for (const option of options) if (best === null || search.better(option, best)) best = option;
  return best && { candidate: best.candidate, startMs: best.startMs, mean: best.mean };
}

/** The offered starts of the window grouped by clock hour: `nowMs`, then each bucket boundary up to `latestMs`. */
function offeredHours({ nowMs, latestMs }: SlotSearch): Hour[] {
  const hours: Hour[] = [{ index: Math.floor(nowMs / HOUR_MS), starts: [nowMs] }];
  for (let bucket = bucketOf(nowMs) + 1; bucket * CAPACITY_BUCKET_MS <= latestMs; bucket += 1) {
    const startMs = bucket * CAPACITY_BUCKET_MS;
    const index = Math.floor(startMs / HOUR_MS);
    const last = hours[hours.length - 1]!;
    if (last.index === index) last.starts.push(startMs);
    else hours.push({ index, starts: [startMs] });
  }
  return hours;
}

/** The shared hours plus the instants in the window where one of the candidate's full periods ends. */
function withFreeingInstants(search: SlotSearch, candidate: PlacementCandidate, shared: readonly Hour[]): Hour[] {
  const instants = freeingOn(search, candidate, search.nowMs, search.latestMs);
  if (instants.length === 0) return [...shared];
  const hours = shared.map((hour) => ({ index: hour.index, starts: [...hour.starts] }));
  for (const startMs of instants) {
    const index = Math.floor(startMs / HOUR_MS);
    const hour = hours.find((h) => h.index === index);
    if (!hour) hours.push({ index, starts: [startMs] });
    else if (!hour.starts.includes(startMs)) hour.starts.push(startMs);
  }
  for (const hour of hours) hour.starts.sort((a, b) => a - b);
  return hours;
}

function offeredOn(search: SlotSearch, candidate: PlacementCandidate, startMs: number): boolean {
  if (startMs === search.nowMs || startMs % CAPACITY_BUCKET_MS === 0) return true;
  const { capacity } = candidate;
  if (capacity === undefined) return false;
  return fullPeriodsOf(search.occupancy, candidate.id).some((period) => period.endMs === startMs);
}

/** Where the candidate's full periods end in (afterMs, untilMs]; none on an unlimited candidate. */
function freeingOn(search: SlotSearch, candidate: PlacementCandidate, afterMs: number, untilMs: number): number[] {
  const { capacity } = candidate;
  if (capacity === undefined) return [];
  return freeingInstants(fullPeriodsOf(search.occupancy, candidate.id), afterMs, untilMs);
}

/**
 * The least finite forecast value a window starting at one of `starts` can cover (a mean is never below it), or
 * Infinity when none. Takes one step more on each side than strictly needed: a lower bound may be loose.
 */
function lowerBound(grid: IntensityGrid, starts: readonly number[], durationMs: number): number {
  const { startMs: origin, stepMs, valuesGCo2PerKwh: values } = grid;
  const from = Math.max(0, Math.floor((starts[0]! - origin) / stepMs) - 1);
  const to = Math.min(values.length - 1, Math.floor((starts[starts.length - 1]! + durationMs - origin) / stepMs) + 1);
  let least = Infinity;
  for (let i = from; i <= to; i += 1) {
    const value = values[i]!;
    if (value < least) least = value;
  }
  return least;
}

/** Per start: whether every bucket its run touches has room for its busy time, and a slot is free throughout. */
function roomAt(search: SlotSearch, candidate: PlacementCandidate, starts: readonly number[]): boolean[] {
  const { capacity } = candidate;
  if (capacity === undefined) return starts.map(() => true);
  const used = search.occupancy.busy.get(candidate.id);
  const full = fullPeriodsOf(search.occupancy, candidate.id);
  const { durationMs } = search;
  return starts.map(
    (startMs) =>
      firstFullBucket(used, capacity, startMs, durationMs) === null && clearOfFull(full, startMs, durationMs),
  );
}

/**
 * The earliest offered start with room on any candidate — `nowMs` first when `withNow`, then the bucket
 * boundaries and the instants a full period ends in (afterMs, untilMs] — and there the option `better` keeps
 * among the candidates in order.
 */
function earliestSlot(search: SlotSearch, afterMs: number, untilMs: number, withNow: boolean) {
  // Only where the start is offered on the candidate (now, a boundary, or one of its own freeing instants).
  const fitting = (startMs: number) =>
    search.eligible.filter((c) => offeredOn(search, c, startMs) && roomAt(search, c, [startMs])[0]);
  let startMs = search.nowMs;
  let atStart: PlacementCandidate[] = withNow ? fitting(startMs) : [];
  if (atStart.length === 0) {
    let earliest: number | null = null;
    for (const candidate of search.eligible) {
      earliest = firstRoom(search, candidate, afterMs, earliest === null ? untilMs : earliest - 1) ?? earliest;
    }
    if (earliest === null) return null;
    startMs = earliest;
    atStart = fitting(startMs);
  }
  let best: SlotOption | null = null;
  for (const candidate of atStart) {
    const grid = search.gridOf(candidate);
    const mean = grid ? meanIntensityOver(grid, startMs, startMs + search.durationMs) : null;
    const option = { candidate, startMs, mean };
    if (best === null || search.better(option, best)) best = option;
  }
  return best;
}

/** The first offered start in (afterMs, untilMs] with room on the candidate: a bucket boundary or a freeing instant. */
function firstRoom(search: SlotSearch, candidate: PlacementCandidate, afterMs: number, untilMs: number) {
  const { capacity } = candidate;
  const firstBoundary = (bucketOf(afterMs) + 1) * CAPACITY_BUCKET_MS;
  if (capacity === undefined) return firstBoundary <= untilMs ? firstBoundary : null;
  const freeing = freeingOn(search, candidate, afterMs, untilMs);
  let next = 0;
  for (let boundary = firstBoundary; ;) {
    const instant = freeing[next];
    const startMs = instant !== undefined && instant < boundary ? instant : boundary;
    if (startMs > untilMs) return null;
    if (roomAt(search, candidate, [startMs])[0]) return startMs;
    if (startMs === instant) next += 1;
    if (startMs === boundary) boundary += CAPACITY_BUCKET_MS;
  }
}
