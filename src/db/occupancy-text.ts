// One candidate's buckets as greengrader_occupancy writes them (migration 0015): "offset:busy_ms[:start,end,…];…",
// the offset counted from the first bucket read, full periods in ms from the bucket's start. Scanned by character
// code rather than split: a plan at 10,000 queued reads ~900 buckets, and splitting made a string of every number.
import { type BookedSpan, CAPACITY_BUCKET_MS } from '../shared/capacity-buckets.js';

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const SEMICOLON = 59;
const COMMA = 44;

/** A bucket's full periods, as the text lists them. */
export interface BucketPeriods {
  bucket: number;
  periods: BookedSpan[];
}

/** Thrown when the occupancy text is not what greengrader_occupancy writes (a schema out of step with the code). */
export class OccupancyTextError extends Error {
  constructor(text: string, at: number) {
    super(`unreadable occupancy text at character ${at}: "${text.slice(Math.max(0, at - 20), at + 20)}"`);
    this.name = 'OccupancyTextError';
  }
}

/** Sets each bucket's busy ms in `busy` and returns the buckets that list full periods, in text order. */
export function readBucketsText(text: string, fromBucket: number, busy: Map<number, number>): BucketPeriods[] {
  const withPeriods: BucketPeriods[] = [];
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
    busy.set(bucket, number());
    if (text.charCodeAt(at) === COLON) {
      at += 1;
      const startMs = bucket * CAPACITY_BUCKET_MS;
      const periods: BookedSpan[] = [];
      for (;;) {
        const from = number();
        expect(COMMA);
        periods.push({ startMs: startMs + from, endMs: startMs + number() });
        if (text.charCodeAt(at) !== COMMA) break;
        at += 1;
      }
      withPeriods.push({ bucket, periods });
    }
    if (at < text.length) expect(SEMICOLON);
  }
  return withPeriods;
}
