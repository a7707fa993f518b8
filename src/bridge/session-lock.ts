import pg from 'pg';
import type { Logger } from '../observability/logger.js';

/**
 * Thrown when another bridge already consumes the same MQTT session (broker URL and client id). A second
 * client with the same id makes the broker drop the first, which reconnects and drops the second in turn:
 * neither would keep a connection long enough to drain the queue.
 */
class BridgeSessionInUseError extends Error {
  override name = 'BridgeSessionInUseError';
  constructor(readonly session: string) {
    super(
      `another greengrader bridge already consumes the MQTT session ${session}: stop it first, or give this one ` +
        `its own MQTT_CLIENT_ID and MQTT_TOPIC. One bridge per session is enough: while it is down, its ` +
        `messages wait at the broker, and every bridge's pending workflow starts are taken over by the next one`,
    );
  }
}

export interface SessionLock {
  release(): Promise<void>;
}

/** How often a lock whose connection died is taken again. */
const RETAKE_MS = 2000;

/**
 * Holds a PostgreSQL session advisory lock named after the MQTT session for as long as the bridge runs, so a
 * second bridge on the same session and database refuses to start. The lock goes with its connection: a
 * crashed (even SIGKILLed) bridge frees it at once. Throws BridgeSessionInUseError when it is held elsewhere.
 */
export async function holdSessionLock(options: {
  databaseUrl: string;
  session: string;
  logger: Logger;
  /**
   * The lock was lost with its connection (PostgreSQL restarted) and another bridge took it before this one could
   * take it again: this one must stop consuming the session, or the two knock each other off the broker in turn.
   * Called once; the lock is not tried again after it.
   */
  onTakenElsewhere: (error: Error) => void;
}): Promise<SessionLock> {
  const log = options.logger.child({ component: 'session-lock', session: options.session });
  let client = await tryLock(options.databaseUrl, options.session);
  if (client === undefined) throw new BridgeSessionInUseError(options.session);
  let released = false;
  let retake: NodeJS.Timeout | undefined;

  const watch = (held: pg.Client) => {
    // A lost connection (PostgreSQL restarted) loses the lock with it: take it again once it answers.
    held.once('error', (error) => {
      log.warn('lost the database connection holding the bridge session lock; taking it again', { error });
      void held.end().catch(() => undefined);
      if (!released) retake = setTimeout(() => void again(), RETAKE_MS);
    });
  };
  const again = async () => {
    if (released) return;
    try {
      client = await tryLock(options.databaseUrl, options.session);
      // Released while it was being taken again: the process is stopping.
      if (released) return void (await client?.end().catch(() => undefined));
      if (client !== undefined) return watch(client);
      released = true;
      return options.onTakenElsewhere(new BridgeSessionInUseError(options.session));
    } catch (error) {
      log.debug('session lock not yet retaken', { error });
    }
    retake = setTimeout(() => void again(), RETAKE_MS);
  };
  watch(client);

  return {
    async release() {
      released = true;
      clearTimeout(retake);
      await client?.end().catch(() => undefined);
    },
  };
}

/** The advisory lock's name (hashed to its key): one per broker session. */
export function sessionLockName(session: string): string {
  return `greengrader-bridge-session:${session}`;
}

/** A connection holding the lock, or undefined when another session holds it. */
async function tryLock(databaseUrl: string, session: string): Promise<pg.Client | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'greengrader-bridge-lock' });
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [sessionLockName(session)],
    );
    if (rows[0]?.locked === true) return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  await client.end();
  return undefined;
}
