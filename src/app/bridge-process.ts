import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { MqttClient } from 'mqtt';
import { createPayloadAcceptor } from '../bridge/accept-payload.js';
import { startBridge } from '../bridge/mqtt-bridge.js';
import { brokerTlsOptions } from '../bridge/broker-tls.js';
import { startBrokerWatch } from '../bridge/broker-watch.js';
import { createPayloadBatcher } from '../bridge/payload-batcher.js';
import { holdSessionLock } from '../bridge/session-lock.js';
import { startWorkflowStarter } from '../bridge/workflow-starter.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { primaryIp } from '../workers/node-info.js';
import { CleanupStack, logStopFailures } from './cleanup-stack.js';
import { loadRetentionKeyring } from './retention-keyring.js';
import { bridgeResources, type BridgeResources } from './resources.js';

/** A batch is written this soon after its first message at the latest: small next to a network round trip. */
const BATCH_FLUSH_MS = 3;

export interface BridgeProcessOptions {
  /** The host process's pool and client; without them the bridge opens its own and serves metrics. */
  shared?: BridgeResources;
  /**
   * The connection an orchestrator worker of this process polls TEMPORAL_TASK_QUEUE on (`up`): workflow starts
   * through it hand their first workflow task straight to that worker (eager start). Without it, starts only queue.
   */
  localOrchestratorConnection?: NativeConnection;
}

export interface RunningBridgeProcess {
  /** Resolves once the bridge has subscribed. */
  ready: Promise<void>;
  /** The MQTT connection, for watching it (tests). */
  client: MqttClient;
  /** Disconnects from the broker, then closes what the bridge opened for itself. */
  stop(): Promise<void>;
  /**
   * Rejects when another bridge took the session's lock while this one had lost it with its database connection:
   * this one has then disconnected from the broker, and its process should stop (the `bridge` command and `up`
   * do; a supervisor's restart makes it the standby, refused until the other stops). Never resolves.
   */
  sessionLost: Promise<never>;
}

/** The MQTT bridge: stores each submission it receives, acknowledges it, then starts its workflow from the table. */
export async function startBridgeProcess(
  config: Config,
  logger: Logger,
  options: BridgeProcessOptions = {},
): Promise<RunningBridgeProcess> {
  const cleanup = new CleanupStack(logStopFailures(logger));
  return cleanup.unwindOnFailure(async () => {
    // Before anything else: a second bridge on the same broker session would fight the first for it.
    let lose: (error: Error) => void = () => undefined;
    const sessionLost = new Promise<never>((_resolve, reject) => (lose = reject));
    // Awaited by the `bridge` command and by `up`; marked handled here so that a loss during start-up, thrown
    // below instead, is no unhandled rejection.
    sessionLost.catch(() => undefined);
    const running: { bridge?: { stop(): Promise<void> }; lost?: Error } = {};
    const lock = await holdSessionLock({
      databaseUrl: config.DATABASE_URL,
      session: `'${config.MQTT_CLIENT_ID}' at ${brokerHost(config.MQTT_URL)}`,
      logger,
      onTakenElsewhere: (error) => {
        logger.error('the bridge session lock was taken by another bridge; this one stops consuming', { error });
        running.lost = error;
        void (running.bridge?.stop() ?? Promise.resolve())
          .catch((stopError: unknown) => logger.error('stopping the bridge failed', { error: stopError }))
          .finally(() => lose(error));
      },
    });
    cleanup.push('bridge session lock', () => lock.release());
    const keyring = await loadRetentionKeyring(config, logger);
    const { db, temporal } = await bridgeResources(config, logger, cleanup, options.shared);
    const local = options.localOrchestratorConnection;
    const starter = startWorkflowStarter({
      ...{ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, logger },
      localWorkerClient: local && new Client({ connection: local, namespace: config.TEMPORAL_NAMESPACE }),
    });
    cleanup.push('workflow starter', () => starter.stop());
    const batcher = createPayloadBatcher({
      db,
      maxRows: config.BRIDGE_WINDOW,
      flushAfterMs: BATCH_FLUSH_MS,
      onCommitted: () => starter.poke(),
    });
    const accept = createPayloadAcceptor({
      db,
      batcher,
      maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
      keyring,
      quarantineRetentionDays: config.QUARANTINE_RETENTION_DAYS,
      receiverIp: primaryIp(),
      logger,
    });
    const tls = await brokerTlsOptions(config.MQTT_CA_FILE);
    const bridge = startBridge({
      url: config.MQTT_URL,
      tls,
      username: config.MQTT_USERNAME,
      password: config.MQTT_PASSWORD,
      topic: config.MQTT_TOPIC,
      clientId: config.MQTT_CLIENT_ID,
      accept,
      window: config.BRIDGE_WINDOW,
      logger,
    });
    cleanup.push('bridge', () => bridge.stop());
    running.bridge = bridge;
    // Lost while starting (before there was a bridge to stop): this one must not consume the session.
    if (running.lost) throw running.lost;
    const login = { username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD };
    const watch = startBrokerWatch({
      url: config.MQTT_URL,
      login,
      clientId: `${config.MQTT_CLIENT_ID}-watch`,
      tls,
      bridgeClient: bridge.client,
      topic: config.MQTT_TOPIC,
      logger,
    });
    cleanup.push('broker watch', () => watch.stop());
    return { ready: bridge.ready, client: bridge.client, stop: () => cleanup.runAll(), sessionLost };
  });
}

/** host:port of the broker URL, without credentials a URL might carry. */
function brokerHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
