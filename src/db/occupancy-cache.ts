// The reservation book as this process last read it, per candidate, so a plan reads from PostgreSQL only the
// buckets written since (greengrader_occupancy_since, migrations 0016 and 0018): at 10,000 queued a whole read is
// ~900 buckets, built as text by the server and scanned here on every plan, while a plan changes one or two. Every
// insert or update of a bucket takes a new version under its candidate's advisory lock, held until commit, so a
// read under that lock that asks for versions above the highest one seen misses no insert or update. What takes no
// version (a bucket with runs in it deleted, the table truncated) raises the book's epoch, which every read
// carries: a copy read at another epoch is dropped and read whole.
import { type BookedSpan, type Occupancy } from '../shared/capacity-buckets.js';
import { joinBucketPeriods } from '../shared/capacity-instants.js';
import { type BucketChange, readBucketChanges } from './occupancy-text.js';

/** A candidate's row of greengrader_occupancy_since (bigints come as text from node-postgres). */
export interface OccupancyRow extends Record<string, unknown> {
  candidate_id: string;
  /** The buckets written after the version asked for: "offset:version[:busy_ms[:full start,end,…]];…". */
  buckets: string;
  /** The candidate's highest version (at least the one asked for). */
  last_version: string | number;
  /** capacity_book_epoch's number: another than the copy's means a change no version shows. */
  epoch: string | number;
}

interface CandidateBook {
  /** Buckets before this one are dropped (no plan starts in the past). */
  fromBucket: number;
  /** The highest version seen: the next read asks for the buckets written after it. */
  since: number;
  /** The epoch the copy was read at. */
  epoch: number;
  busy: Map<number, number>;
  /** The buckets that list full periods. */
  periods: Map<number, BookedSpan[]>;
  /** Their periods joined in bucket order; null when a change calls for joining them again. */
  full: BookedSpan[] | null;
}

export class OccupancyCache {
  private readonly books = new Map<string, CandidateBook>();

  /**
   * Per candidate, the version to read after: its copy's highest, or 0 (read it whole) when there is no copy or
   * the copy was cut after `fromBucket`.
   */
  since(candidateIds: readonly string[], fromBucket: number): number[] {
    return candidateIds.map((id) => {
      const book = this.books.get(id);
      return book && book.fromBucket <= fromBucket ? book.since : 0;
    });
  }

  /**
   * Applies a read from `fromBucket` that asked for versions after `sentSince` (0: a whole read). Returns the
   * candidates whose copy cannot take a partial read: read at another epoch, dropped (`forget`) or cut after
   * `fromBucket` since the read was sent. They are dropped, to be read whole.
   */
  apply(rows: readonly OccupancyRow[], fromBucket: number, sentSince: ReadonlyMap<string, number>): string[] {
    const stale: string[] = [];
    for (const row of rows) {
      const id = row.candidate_id;
      const earlier = this.books.get(id);
      const epoch = Number(row.epoch);
      // A whole read replaces the copy (it leaves out buckets emptied since). A partial one is only the changes:
      // without the copy it was asked against, the older buckets would be lost while `since` moved past them.
      const whole = (sentSince.get(id) ?? 0) === 0;
      if (!whole && (!earlier || earlier.fromBucket > fromBucket || earlier.epoch !== epoch)) {
        this.books.delete(id);
        stale.push(id);
        continue;
      }
      const book = whole || !earlier ? emptyBook(fromBucket, epoch) : earlier;
      dropBefore(book, fromBucket);
      for (const change of readBucketChanges(row.buckets, fromBucket)) applyChange(book, change);
      book.since = Math.max(book.since, Number(row.last_version));
      this.books.set(id, book);
    }
    return stale;
  }

  /**
   * The copies' versions and their common epoch when every candidate has a copy from `fromBucket` or earlier (its
   * buckets before `fromBucket` dropped, as a read from there leaves them out): `occupancy` then holds what a read
   * would, unless the book changed since, which greengrader_reserve_unchanged checks under the locks. Null when a
   * candidate has no such copy or the copies were read at different epochs.
   */
  current(candidateIds: readonly string[], fromBucket: number): { since: number[]; epoch: number } | null {
    const books: CandidateBook[] = [];
    for (const id of candidateIds) {
      const book = this.books.get(id);
      if (!book || book.fromBucket > fromBucket || book.epoch !== (books[0] ?? book).epoch) return null;
      books.push(book);
    }
    const [first] = books;
    if (!first) return null;
    for (const book of books) dropBefore(book, fromBucket);
    return { since: books.map((book) => book.since), epoch: first.epoch };
  }

  /** The candidates' occupancy as last applied: what the planner reads. Valid until the next `apply`. */
  occupancy(candidateIds: readonly string[]): Occupancy {
    const busy = new Map<string, ReadonlyMap<number, number>>();
    const full = new Map<string, readonly BookedSpan[]>();
    for (const id of candidateIds) {
      const book = this.books.get(id);
      if (!book || book.busy.size === 0) continue;
      busy.set(id, book.busy);
      if (book.periods.size === 0) continue;
      book.full ??= joinBucketPeriods(
        [...book.periods.entries()].sort(([a], [b]) => a - b).map(([, periods]) => periods),
      );
      full.set(id, book.full);
    }
    return { busy, full };
  }

  /** Drops the candidates' copies (after a transaction that read them rolled back): the next read is whole. */
  forget(candidateIds: readonly string[]): void {
    for (const id of candidateIds) this.books.delete(id);
  }
}

function emptyBook(fromBucket: number, epoch: number): CandidateBook {
  return {
    fromBucket,
    since: 0,
    epoch,
    busy: new Map(),
    periods: new Map(),
    full: null,
  };
}

function dropBefore(book: CandidateBook, fromBucket: number): void {
  if (fromBucket <= book.fromBucket) return;
  book.fromBucket = fromBucket;
  for (const bucket of book.busy.keys()) {
    if (bucket >= fromBucket) continue;
    book.busy.delete(bucket);
    if (book.periods.delete(bucket)) book.full = null;
  }
}

function applyChange(book: CandidateBook, change: BucketChange): void {
  const { bucket } = change;
  if (change.busyMs === null) book.busy.delete(bucket);
  else book.busy.set(bucket, change.busyMs);
  if (change.periods.length > 0) book.periods.set(bucket, change.periods);
  else if (!book.periods.has(bucket)) return;
  else book.periods.delete(bucket);
  book.full = null;
}
