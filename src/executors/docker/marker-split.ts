import { Writable } from 'node:stream';

/** Where a MarkerSplit passes bytes on. */
export interface ByteSink {
  write(chunk: Buffer): unknown;
}

/**
 * A sink for one output stream that passes bytes to `before` up to the first occurrence of `marker`, calls
 * `onMarker`, and passes everything after it to `after`; the marker itself goes nowhere. It holds back at most
 * marker.length − 1 bytes (a marker may be split across chunks): `flush()` hands them to `before` when the
 * stream ended without the marker.
 */
export class MarkerSplit extends Writable {
  private pending = Buffer.alloc(0);
  private found = false;

  constructor(
    private readonly marker: Buffer,
    private readonly before: ByteSink,
    private readonly after: ByteSink,
    private readonly onMarker: () => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.take(chunk);
    callback();
  }

  /** Hands the held-back tail to `before`: the stream ended, so it cannot begin the marker any more. */
  flush(): void {
    if (this.found || this.pending.length === 0) return;
    this.before.write(this.pending);
    this.pending = Buffer.alloc(0);
  }

  private take(chunk: Buffer): void {
    if (this.found) {
      this.after.write(chunk);
      return;
    }
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const at = data.indexOf(this.marker);
    if (at === -1) {
      const keep = Math.min(data.length, this.marker.length - 1);
      if (data.length > keep) this.before.write(data.subarray(0, data.length - keep));
      this.pending = Buffer.from(data.subarray(data.length - keep));
      return;
    }
    if (at > 0) this.before.write(data.subarray(0, at));
    this.found = true;
    this.pending = Buffer.alloc(0);
    this.onMarker();
    const rest = data.subarray(at + this.marker.length);
    if (rest.length > 0) this.after.write(rest);
  }
}
