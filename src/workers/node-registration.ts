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

export interface RegistrationOptions {
  checkInIntervalMs: number;
  /** A node silent this long is taken for dead (NODE_LIVENESS_SEC): its next check-in makes it live again. */
  livenessMs: number;
  logger: Logger;
  /**
   * Called once the node is live: registered, or checking in again after a silence placement took for death. Its
   * free slots came from no release, so nothing else tells the runs queued for them (see createRegionWake).
   */
  onLive?: () => Promise<void>;
}

/** Upserts the node row now and refreshes `last_seen_at` until stopped: placement only picks live nodes. */
export async function registerNode(
  db: Database,
  identity: NodeIdentity,
  hardware: NodeHardware,
  options: RegistrationOptions,
): Promise<{ stop(): Promise<void> }> {
  const row = { ...identity, ...hardware, lastSeenAt: new Date() };
  await db
    .insert(nodes)
    .values(row)
    .onConflictDoUpdate({ target: nodes.name, set: { ...row, registeredAt: sql`now()` } });
  const untrackLoad = trackNodeLoad(db, identity);
  const becameLive = async () => {
    try {
      await options.onLive?.();
    } catch (error) {
      // The runs' fallback poll finds the slots later; the node serves whatever claims it meanwhile.
      options.logger.warn('could not wake the runs queued in the node region', { error });
    }
  };
  await becameLive();
  const checkIn = async () => {
    let silentMs: number;
    try {
      silentMs = await checkInNode(db, identity.name);
    } catch (error) {
      options.logger.warn('node check-in failed', { error });
      return;
    }
    if (silentMs > options.livenessMs) await becameLive();
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

/**
 * Refreshes the node's `last_seen_at` and says how long it had been silent, by the database's clock (placement's
 * own view of whether it was live): a check-in after a stall, a lost connection or a clean stop brings it back.
 */
async function checkInNode(db: Database, name: string): Promise<number> {
  const { rows } = await db.execute<{ silent_ms: number | string }>(sql`
    update ${nodes} set last_seen_at = now()
    from (select last_seen_at from ${nodes} where name = ${name} for update) as previous
    where ${nodes.name} = ${name}
    returning extract(epoch from now() - previous.last_seen_at) * 1000 as silent_ms`);
  // A row deleted meanwhile (an operator removed the node) has nothing to come back to.
  return rows[0] === undefined ? 0 : Number(rows[0].silent_ms);
}
