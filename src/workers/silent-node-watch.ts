import type { WakeWaiters } from '../activities/slot-release.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import { runsQueuedBehindSilentNodes } from '../db/slot-claims.js';
import type { Logger } from '../observability/logger.js';

/** Runs woken per pass: a dead region's whole queue re-plans over a few passes, not in one burst of signals. */
const WAKE_PER_PASS_MAX = 500;

/**
 * Wakes the runs queued in a region whose node just went silent, so they plan again (their claim reports the node
 * gone) within a liveness period instead of at their minutes-long fallback poll. Each pass looks at the nodes that
 * crossed the liveness line since the pass before (with one period of overlap for a late pass); queued runs whose
 * own node is alive just claim again and wait on. A lost pass is covered by the runs' fallback poll.
 */
export function watchSilentNodes(
  db: Database,
  config: Pick<Config, 'NODE_LIVENESS_SEC'>,
  wake: WakeWaiters,
  logger: Logger,
): { stop(): Promise<void> } {
  const periodMs = config.NODE_LIVENESS_SEC * 1000;
  let inFlight: Promise<void> = Promise.resolve();
  const pass = async () => {
    const silentTo = new Date(Date.now() - periodMs);
    const silentFrom = new Date(silentTo.getTime() - 2 * periodMs);
    try {
      const workflowIds = await runsQueuedBehindSilentNodes(db, silentFrom, silentTo, WAKE_PER_PASS_MAX);
      if (workflowIds.length === 0) return;
      logger.info('waking runs queued in regions of silent nodes', { runs: workflowIds.length });
      await wake(workflowIds);
    } catch (error) {
      logger.warn('could not wake runs queued behind silent nodes', { error: String(error) });
    }
  };
  const timer = setInterval(() => {
    inFlight = inFlight.then(pass);
  }, periodMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
