import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/config.js';
import type { CleanupStack } from './cleanup-stack.js';

/** A client for starting and querying workflows (the bridge), closed by `cleanup`. */
export async function connectTemporalClient(config: Config, cleanup: CleanupStack): Promise<Client> {
  const connection = await Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    // gRPC's reconnect backoff grows to 120 s: after a minute's outage the bridge's pending starts would wait
    // ~45 s more for a server that is already back. Retrying a single server every 2 s at most costs nothing.
    channelArgs: { 'grpc.max_reconnect_backoff_ms': 2000 },
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
