import type { Database } from '../db/client.js';
import { rawPayloads } from '../db/schema.js';

/** Payload bytes per INSERT: far below PostgreSQL's 1 GiB message limit, and one buffer of this size at most. */
const DEFAULT_MAX_BATCH_BYTES = 128 * 1024 * 1024;

type PayloadRow = typeof rawPayloads.$inferInsert & { sha256: string; bytes: Buffer };

export interface PayloadBatcherOptions {
  db: Database;
  /** A batch is written once it holds this many rows… */
  maxRows: number;
  /** …or once its rows hold this many payload bytes (default 128 MiB)… */
  maxBytes?: number;
  /** …or this long after its first row arrived, whichever comes first. */
  flushAfterMs: number;
  /** Called after each committed batch that inserted rows: the starter loop has work. */
  onCommitted?: () => void;
}

/**
 * Writes payload rows with one multi-row `INSERT … ON CONFLICT DO NOTHING` per batch, so a burst costs one
 * round trip per batch instead of one per message. A batch is also cut by bytes: PostgreSQL refuses a protocol
 * message over 1 GiB, which 64 large zips in one INSERT would exceed, and the bind message is one buffer. Resolves each row's promise once its batch committed
 * ('duplicate' when its bytes were stored before); rejects them all when the batch failed.
 */
export function createPayloadBatcher(options: PayloadBatcherOptions) {
  let pending: { row: PayloadRow; resolve: (stored: boolean) => void; reject: (error: unknown) => void }[] = [];
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BATCH_BYTES;
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    if (batch.length === 0) return;
    try {
      const inserted = await options.db
        .insert(rawPayloads)
        .values(batch.map((entry) => entry.row))
        .onConflictDoNothing({ target: rawPayloads.sha256 })
        .returning({ sha256: rawPayloads.sha256 });
      const fresh = new Set(inserted.map((row) => row.sha256));
      // The same bytes twice in one batch insert once: the first of them counts as stored.
      for (const entry of batch) entry.resolve(fresh.delete(entry.row.sha256));
      if (inserted.length > 0) options.onCommitted?.();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  };

  return {
    store(row: PayloadRow): Promise<'stored' | 'duplicate'> {
      return new Promise((resolve, reject) => {
        pending.push({ row, resolve: (stored) => resolve(stored ? 'stored' : 'duplicate'), reject });
        pendingBytes += row.bytes.length;
        if (pending.length >= options.maxRows || pendingBytes >= maxBytes) void flush();
        else timer ??= setTimeout(() => void flush(), options.flushAfterMs);
      });
    },
  };
}
