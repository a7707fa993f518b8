/** Beats per heartbeat timeout: a beat lost or throttled by the SDK still leaves two before the server gives up. */
const BEATS_PER_TIMEOUT = 3;
/** An activity without a heartbeat timeout is never timed out for silence: its beats only carry its phase. */
const DEFAULT_INTERVAL_MS = 10_000;

export interface HeartbeatPacerOptions {
  /** The activity's heartbeat timeout (Temporal's `info.heartbeatTimeoutMs`); undefined when it has none. */
  heartbeatTimeoutMs: number | undefined;
  /** Sends one heartbeat to Temporal. */
  send(phase: string): void;
  now?: () => number;
}

/**
 * Forwards an executor's phase heartbeats to Temporal at the pace the heartbeat timeout needs, not at the pace the
 * executor reports them (every 0.5 s): each forwarded beat costs the node's main thread an encoding and a call
 * into the SDK's core. Temporal measures silence from the activity's start, so the first beat waits a third of the
 * timeout as well, and a run shorter than that sends none (no server request at all). The beat sent is the latest
 * phase reported.
 */
export function createHeartbeatPacer(options: HeartbeatPacerOptions): (phase: string) => void {
  const now = options.now ?? Date.now;
  const timeoutMs = options.heartbeatTimeoutMs;
  const intervalMs = timeoutMs && timeoutMs > 0 ? timeoutMs / BEATS_PER_TIMEOUT : DEFAULT_INTERVAL_MS;
  let lastSentMs = now();
  return (phase) => {
    const at = now();
    if (at - lastSentMs < intervalMs) return;
    lastSentMs = at;
    options.send(phase);
  };
}
