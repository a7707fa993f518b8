// One candidate's buckets as greengrader_occupancy_since writes them (migration 0016):
// "offset:version[:busy_ms[:start,end,…]];…", the offset counted from the first bucket read, an empty bucket as its
// offset and version alone, full periods in ms from the bucket's start. Scanned by character code rather than
// split: a whole read at 10,000 queued is ~900 buckets, and splitting made a string of every number.
import { type BookedSpan, CAPACITY_BUCKET_MS } from '../shared/capacity-buckets.js';

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const SEMICOLON = 59;
const COMMA = 44;

/** One bucket as the text gives it. */
export interface BucketChange {
  bucket: number;
  /** capacity_bucket_versions' number at the bucket's last write. */
  version: number;
  /** Booked busy ms; null when no run is left in the bucket. */
  busyMs: number | null;
  /** Its full periods, in time order (none listed: empty). */
  periods: BookedSpan[];
}

/** Thrown when the text is not what greengrader_occupancy_since writes (a schema out of step with the code). */
export class OccupancyTextError extends Error {
  constructor(text: string, at: number) {
    super(`unreadable occupancy text at character ${at}: "${text.slice(Math.max(0, at - 20), at + 20)}"`);
    this.name = 'OccupancyTextError';
  }
}

/** The buckets the text lists, in text order. */
export function readBucketChanges(text: string, fromBucket: number): BucketChange[] {
  const changes: BucketChange[] = [];
  let at = 0;
  const number = (): number => {
    const from = at;
    let value = 0;
    for (let code = text.charCodeAt(at); code >= DIGIT_0 && code <= DIGIT_9; code = text.charCodeAt(++at)) {
      value = value * 10 + (code - DIGIT_0);
    }
    if (at === from) throw new OccupancyTextError(text, at);
    return value;
  };
  const expect = (code: number) => {
    if (text.charCodeAt(at) !== code) throw new OccupancyTextError(text, at);
    at += 1;
  };
  while (at < text.length) {
    const bucket = fromBucket + number();
    expect(COLON);
    const change: BucketChange = { bucket, version: number(), busyMs: null, periods: [] };
    if (text.charCodeAt(at) === COLON) {
      at += 1;
      change.busyMs = number();
    }
    if (change.busyMs !== null && text.charCodeAt(at) === COLON) {
      at += 1;
      const startMs = bucket * CAPACITY_BUCKET_MS;
      for (;;) {
        const from = number();
        expect(COMMA);
        change.periods.push({ startMs: startMs + from, endMs: startMs + number() });
        if (text.charCodeAt(at) !== COMMA) break;
        at += 1;
      }
    }
    changes.push(change);
    if (at < text.length) expect(SEMICOLON);
  }
  return changes;
}
