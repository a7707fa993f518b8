import type { Database } from '../db/client.js';
import { rawPayloads } from '../db/schema.js';

type PayloadRow = typeof rawPayloads.$inferInsert & { sha256: string };

export interface PayloadBatcherOptions {
  db: Database;
  /** A batch is written once it holds this many rows… */
  maxRows: number;
  /** …or this long after its first row arrived, whichever comes first. */
  flushAfterMs: number;
  /** Called after each committed batch that inserted rows: the starter loop has work. */
  onCommitted?: () => void;
}

/**
 * Writes payload rows with one multi-row `INSERT … ON CONFLICT DO NOTHING` per batch, so a burst costs one
 * round trip per batch instead of one per message. Resolves each row's promise once its batch committed
 * ('duplicate' when its bytes were stored before); rejects them all when the batch failed.
 */
export function createPayloadBatcher(options: PayloadBatcherOptions) {
  let pending: { row: PayloadRow; resolve: (stored: boolean) => void; reject: (error: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
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
        if (pending.length >= options.maxRows) void flush();
        else timer ??= setTimeout(() => void flush(), options.flushAfterMs);
      });
    },
  };
}
