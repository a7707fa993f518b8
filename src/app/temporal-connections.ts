import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/config.js';
import type { CleanupStack } from './cleanup-stack.js';

/**
 * The client's default retries of an UNAVAILABLE call grow to 5 s apart: a start sent during an outage would
 * sleep up to 5 s past a server that is back. One server, refusing at once while down: retrying twice a second
 * costs nothing. Rate limiting (RESOURCE_EXHAUSTED) keeps the default, longer backoff.
 */
const UNAVAILABLE_MAX_RETRY_DELAY_MS = 500;
/** gRPC's status code UNAVAILABLE (grpc-js itself is not a dependency of ours). */
const GRPC_UNAVAILABLE = 14;

/** A client for starting and querying workflows (the bridge), closed by `cleanup`. */
export async function connectTemporalClient(config: Config, cleanup: CleanupStack): Promise<Client> {
  const defaults = defaultGrpcRetryOptions();
  const connection = await Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    // gRPC's reconnect backoff grows to 120 s: after a minute's outage the bridge's pending starts would wait
    // ~45 s more for a server that is already back. Reconnecting to a single server every second costs nothing.
    channelArgs: { 'grpc.max_reconnect_backoff_ms': 1000 },
    interceptors: [
      makeGrpcRetryInterceptor({
        retryableDecider: defaults.retryableDecider,
        delayFunction: (attempt, status) => {
          const delay = defaults.delayFunction(attempt, status);
          const code: number = status.code;
          return code === GRPC_UNAVAILABLE ? Math.min(delay, UNAVAILABLE_MAX_RETRY_DELAY_MS) : delay;
        },
      }),
    ],
  });
  cleanup.push('Temporal client', () => connection.close());
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** The connection workers poll on; several workers in one process share it. Closed by `cleanup`. */
export async function connectWorkerConnection(config: Config, cleanup: CleanupStack): Promise<NativeConnection> {
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  cleanup.push('worker connection', () => connection.close());
  return connection;
}
