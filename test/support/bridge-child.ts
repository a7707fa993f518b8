import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/services/free-port.js';
import { waitFor } from './wait-for.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Enough of its log to explain a failure without growing with every message of a burst. */
const KEPT_LOG_CHARS = 64 * 1024;

/** `greengrader bridge` as its own process, so a test can SIGKILL it as a crash would. */
export interface BridgeChild {
  child: ChildProcess;
  /** The tail of its stderr (JSON log lines). */
  log(): string;
  /** Resolves with how it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** How it ended, or 'running' if it is still running after `ms`. */
  exitedWithin(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'running'>;
  /** Waits for its "subscribed" log line; throws with the log tail if it exits first. */
  waitUntilSubscribed(timeoutMs?: number): Promise<void>;
  /** SIGTERM (its graceful stop), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** `kill -9`: no cleanup, no PUBACKs for what it held. */
  kill(): Promise<void>;
}

/**
 * Starts `greengrader bridge` with `env` over the inherited environment and its own metrics port; `nodeArgs` go to
 * node before the script (bench:ingest's `--cpu-prof`, which NODE_OPTIONS does not accept).
 */
export async function spawnBridge(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<BridgeChild> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', 'bridge'], {
    cwd: repoRoot,
    env: { ...process.env, METRICS_PORT: String(metricsPort), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  let subscribed = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-KEPT_LOG_CHARS);
    if (!subscribed && log.includes('"message":"subscribed"')) subscribed = true;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    log: () => log,
    exited,
    exitedWithin: (ms) =>
      Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms).unref())]),
    async waitUntilSubscribed(timeoutMs = 90_000) {
      await waitFor(() => subscribed || !running(), { description: 'the bridge to subscribe', timeoutMs }).catch(
        (error: unknown) => {
          throw new Error(`the bridge did not subscribe; its log:\n${log.slice(-4000)}`, { cause: error });
        },
      );
      if (!running()) throw new Error(`the bridge exited before subscribing:\n${log}`);
    },
    async stop(graceMs = 15_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}
