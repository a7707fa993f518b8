import type { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/config.js';
import { CliError } from './errors.js';

/** A command gives up on an unreachable Temporal frontend after this long instead of hanging. */
const CONNECT_TIMEOUT_SEC = 5;

/** Runs `action` with a Temporal client that is closed afterwards; an unreachable server is a one-line CliError. */
export async function withTemporal<T>(config: Config, action: (client: Client) => Promise<T>): Promise<T> {
  // Loaded on use: the client weighs half a second at the start of every command, and most never need it.
  const { Client, Connection } = await import('@temporalio/client');
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.TEMPORAL_ADDRESS,
      connectTimeout: `${CONNECT_TIMEOUT_SEC}s`,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS): ${reason}`, 1, {
      cause: error,
    });
  }
  try {
    return await action(new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }));
  } finally {
    await connection.close();
  }
}
