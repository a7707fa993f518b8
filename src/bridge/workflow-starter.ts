import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client.js';
import type { Logger } from '../observability/logger.js';
import { claimPendingStarts, markStarted, releaseClaims, type ClaimedStart, type StartedRow } from './start-claims.js';
import { startIngestWorkflow } from './start-ingest-workflow.js';

export interface WorkflowStarterOptions {
  db: Database;
  temporal: Client;
  /**
   * A client on the NativeConnection a worker of this process polls `taskQueue` on (`up`): starts through it ask
   * for eager dispatch, so the first workflow task goes straight to that worker, sparing the server a poll answer.
   * Used only while starts succeed: a start that failed, and every probe of an outage, goes through `temporal`,
   * whose reconnect and retries are tuned to resume within a second of Temporal answering again (Core's client
   * retries an UNAVAILABLE call for up to 10 s, up to 5 s apart).
   */
  localWorkerClient?: Client;
  taskQueue: string;
  logger: Logger;
  /** Workflow starts kept in flight at once: Temporal's start rate comes from concurrency, not from one call. */
  window?: number;
  /** How often an idle loop looks for rows another bridge process (or a crash) left pending. */
  idlePollMs?: number;
  /** How long a claimed row stays this bridge's: how long a crashed bridge's rows wait for another. */
  leaseMs?: number;
}

/** A claimed row held here, with the starts of it that failed while Temporal answered others. */
type PendingStart = ClaimedStart & { failures: number };

export interface RunningWorkflowStarter {
  /** Wakes the loop at once: rows were just committed. */
  poke(): void;
  stop(): Promise<void>;
}

/**
 * Pauses after a failed start (or claim) while Temporal (or the database) fails: ingestion goes on meanwhile, the
 * rows wait in the table. Capped at 1 s, and only one start probes during a failure, so a returning Temporal gets
 * its backlog within about a second at the cost of one refused call per second. A start that fails while Temporal
 * answers the others (slow right after a restart, or one call timed out) waits the same delays on its own instead.
 */
const RETRY_DELAYS_MS = [200, 500, 1000];
/** Well above a start's own deadline: a live bridge never loses a row it is starting to a peer. */
const DEFAULT_LEASE_MS = 30_000;
/** Temporal's dev server and a small cluster reach their start rate at about 32 concurrent calls. */
const DEFAULT_WINDOW = 32;
/**
 * Completed starts wait this long for more before their mark is written (unless half a window's worth is ready):
 * one UPDATE then covers many starts instead of one each, even when Temporal is slow. The rows stay leased
 * meanwhile (a crash costs only a start that finds its id taken), and each keeps its own start time.
 */
const MARK_LINGER_MS = 250;
/**
 * Pokes (one per committed insert batch, i.e. per message in a trickle) claim at most this often: while starts
 * are in flight, a claim per message is a round trip that buys nothing the next one would not.
 */
const CLAIM_SPACING_MS = 20;

/**
 * Starts the GradeSubmission workflow of every payload row still pending, then marks it started: the outbox
 * half of "acknowledge once committed". A pipeline, not rounds: up to `window` starts are in flight, each
 * replaced as it completes from up to `window` more rows claimed ahead, so neither a slow start nor a trickle of
 * small commits leaves Temporal idle. Rows are claimed under a lease (`FOR UPDATE SKIP LOCKED`, then autocommit),
 * so several bridges share the table and a crashed one's rows return after the lease; a start that finds its
 * workflow id taken (a crash after the start but before the mark, or a peer after an expired lease) counts as
 * done, so no workflow is lost or started twice. Marks of completed starts are written together, one UPDATE at
 * a time, lingering briefly to gather more; claims are spaced, so a trickle of commits costs no claim per message.
 */
export function startWorkflowStarter(options: WorkflowStarterOptions): RunningWorkflowStarter {
  const log = options.logger.child({ component: 'workflow-starter' });
  const window = options.window ?? DEFAULT_WINDOW;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const idlePollMs = options.idlePollMs ?? 1000;
  const { db } = options;

  const queued: PendingStart[] = [];
  /** Rows whose start failed while Temporal answered others: each waits its own delay, still leased, then goes again. */
  const retrying = new Map<PendingStart, NodeJS.Timeout>();
  /** When a start last succeeded: a start sent before then that fails did not fail because Temporal is down. */
  let lastStartedAt = 0;
  const inFlight = new Set<Promise<void>>();
  const toMark: StartedRow[] = [];
  let marking: Promise<void> | undefined;
  let markRetryAt = 0;
  let markTimer: NodeJS.Timeout | undefined;
  let lastClaimAt = 0;
  let startFailures = 0;
  let pausedUntil = 0;
  /** The last claim found fewer rows than it asked for: only a poke or the idle poll brings more. */
  let drained = false;
  let stopping = false;
  let woken = false;
  let wake: (() => void) | undefined;

  const signal = () => {
    woken = true;
    wake?.();
  };
  /** Sleeps `ms`; a signal ends it early unless `firm` (a pause after failures), a stop always does. */
  const nap = async (ms: number, firm = false) => {
    if (woken && !firm) return;
    const controller = new AbortController();
    wake = () => {
      if (!firm || stopping) controller.abort();
    };
    await sleep(ms, undefined, { signal: controller.signal }).catch(() => undefined);
    wake = undefined;
  };

  /** Writes the waiting marks now when `force`d or half a window's worth waits; else within MARK_LINGER_MS. */
  const flushMarks = (force = false) => {
    if (marking || toMark.length === 0) return;
    const retryIn = markRetryAt - Date.now();
    if (retryIn > 0 || (!force && toMark.length < window / 2 && !stopping)) {
      markTimer ??= setTimeout(
        () => {
          markTimer = undefined;
          flushMarks(true);
        },
        Math.max(retryIn, MARK_LINGER_MS),
      );
      return;
    }
    clearTimeout(markTimer);
    markTimer = undefined;
    const batch = toMark.splice(0);
    marking = markStarted(db, batch)
      .catch((error: unknown) => {
        // The workflows exist; the rows stay leased meanwhile, and a later start of one finds its id taken.
        toMark.unshift(...batch);
        markRetryAt = Date.now() + (RETRY_DELAYS_MS.at(-1) ?? 1000);
        log.warn('could not mark started workflows; retrying', { error, rows: batch.length });
      })
      .finally(() => {
        marking = undefined;
        flushMarks();
      });
  };

  const onStarted = (row: ClaimedStart) => {
    if (startFailures > 0) log.info('workflow starts resumed', { failedAttempts: startFailures });
    startFailures = 0;
    lastStartedAt = Date.now();
    toMark.push({ sha256: row.sha256, startedAt: new Date() });
    flushMarks();
  };

  const onFailed = (row: PendingStart, error: unknown, sentAt: number) => {
    const cause = error instanceof Error ? error.cause : undefined;
    if (lastStartedAt >= sentAt && !stopping) {
      // Temporal answered another start since this one was sent: it is up, only slow or refusing this call (right
      // after a restart, most starts take seconds and some time out). Narrowing the window to one probe would cut
      // the rate to one start per slow round trip; this row alone waits, and the others go on.
      row.failures += 1;
      const delay = RETRY_DELAYS_MS[Math.min(row.failures, RETRY_DELAYS_MS.length) - 1] ?? 1000;
      log.warn('a workflow start failed while others succeed; retrying it', {
        error,
        cause,
        attempt: row.failures,
        delay,
      });
      const timer = setTimeout(() => {
        retrying.delete(row);
        queued.unshift(row);
        launch();
      }, delay);
      retrying.set(row, timer);
      return;
    }
    startFailures += 1;
    const delay = RETRY_DELAYS_MS[Math.min(startFailures, RETRY_DELAYS_MS.length) - 1] ?? 1000;
    pausedUntil = Date.now() + delay;
    // Give back what waits here too, so any bridge can take it (oldest first) once starts go through again.
    const released = [row, ...queued.splice(0)].map((r) => r.sha256);
    const logAt = startFailures === 1 ? 'warn' : 'debug';
    log[logAt]('could not start a workflow; probing with one start at a time', {
      error,
      cause,
      attempt: startFailures,
      delay,
    });
    releaseClaims(db, released).catch((releaseError: unknown) =>
      log.warn('could not release claimed rows; they return when their lease ends', { error: releaseError }),
    );
  };

  /** Fills the window from the queue; after a failure only one start at a time probes Temporal. */
  const launch = () => {
    const limit = startFailures > 0 ? 1 : window;
    while (!stopping && inFlight.size < limit && Date.now() >= pausedUntil) {
      const row = queued.shift();
      if (!row) break;
      const sentAt = Date.now();
      // After any failure, back to the client tuned for outages (see localWorkerClient).
      const eagerClient = startFailures === 0 && row.failures === 0 ? options.localWorkerClient : undefined;
      const temporal = eagerClient ?? options.temporal;
      const start: Promise<void> = startIngestWorkflow(temporal, options.taskQueue, row, eagerClient !== undefined)
        .then(
          () => onStarted(row),
          (error: unknown) => onFailed(row, error, sentAt),
        )
        .finally(() => {
          inFlight.delete(start);
          launch();
          // Room for a good batch of rows, and the table may hold them: claim now rather than at the next poke.
          if (!drained && queued.length < window / 2) signal();
        });
      inFlight.add(start);
    }
  };

  const claim = async (): Promise<void> => {
    const room = 2 * window - inFlight.size - queued.length - retrying.size;
    if (room <= 0) return;
    lastClaimAt = Date.now();
    const rows = await claimPendingStarts(db, room, leaseMs);
    drained = rows.length < room;
    queued.push(...rows.map((row) => ({ ...row, failures: 0 })));
  };

  const loop = async () => {
    let claimFailures = 0;
    while (!stopping) {
      woken = false;
      flushMarks();
      const paused = pausedUntil - Date.now();
      if (paused > 0) {
        await nap(paused, true);
        continue;
      }
      // A poke per committed batch would otherwise claim once per message of a trickle while starts are running.
      const spacing = lastClaimAt + CLAIM_SPACING_MS - Date.now();
      if (spacing > 0 && inFlight.size > 0) await nap(spacing, true);
      try {
        await claim();
        claimFailures = 0;
      } catch (error) {
        claimFailures += 1;
        const delay = RETRY_DELAYS_MS[Math.min(claimFailures, RETRY_DELAYS_MS.length) - 1] ?? 1000;
        log.warn('could not claim pending rows; retrying', { error, attempt: claimFailures, delay });
        await nap(delay, true);
        continue;
      }
      launch();
      await nap(drained ? idlePollMs : (RETRY_DELAYS_MS.at(-1) ?? 1000));
    }
  };
  const running = loop();

  return {
    poke() {
      drained = false;
      signal();
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      // Starts under way finish (each within its deadline) and are marked; unstarted rows go back at once.
      await Promise.allSettled([...inFlight]);
      // A few tries at most: a row whose mark is lost stays leased, and its next start finds the workflow.
      for (let attempt = 0; attempt < 3 && (marking || toMark.length > 0); attempt += 1) {
        markRetryAt = 0;
        flushMarks();
        await marking;
      }
      clearTimeout(markTimer);
      for (const [row, timer] of retrying) {
        clearTimeout(timer);
        queued.push(row);
      }
      retrying.clear();
      await releaseClaims(
        db,
        queued.splice(0).map((row) => row.sha256),
      ).catch((error: unknown) =>
        log.warn('could not release claimed rows; they return when their lease ends', { error }),
      );
    },
  };
}
