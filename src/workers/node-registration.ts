import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { nodes } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';
import { trackNodeLoad } from '../observability/node-load.js';
import type { NodeHardware } from './node-info.js';

export interface NodeIdentity {
  name: string;
  kind: 'docker' | 'kubernetes';
  taskQueue: string;
  region: string;
  zone: string;
  maxConcurrentRuns: number;
  /** Runs it takes beyond its slots (claims = slots + prefetch; only the slots' graders run at once). */
  prefetchRuns: number;
}

/** Upserts the node row now and refreshes `last_seen_at` until stopped: placement only picks live nodes. */
export async function registerNode(
  db: Database,
  identity: NodeIdentity,
  hardware: NodeHardware,
  options: { checkInIntervalMs: number; logger: Logger },
): Promise<{ stop(): Promise<void> }> {
  const row = { ...identity, ...hardware, lastSeenAt: new Date() };
  await db
    .insert(nodes)
    .values(row)
    .onConflictDoUpdate({ target: nodes.name, set: { ...row, registeredAt: sql`now()` } });
  const untrackLoad = trackNodeLoad(db, identity);
  const checkIn = async () => {
    try {
      await db
        .update(nodes)
        .set({ lastSeenAt: sql`now()` })
        .where(eq(nodes.name, identity.name));
    } catch (error) {
      options.logger.warn('node check-in failed', { error });
    }
  };
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = checkIn();
  }, options.checkInIntervalMs);
  return {
    async stop() {
      clearInterval(timer);
      untrackLoad();
      await inFlight;
      // A node shutting down cleanly leaves placement at once instead of after the liveness window.
      await db
        .update(nodes)
        .set({ lastSeenAt: new Date(0) })
        .where(eq(nodes.name, identity.name))
        .catch(() => undefined);
    },
  };
}
