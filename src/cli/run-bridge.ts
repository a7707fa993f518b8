import type { Config } from '../config/config.js';
import { createPayloadAcceptor } from '../bridge/accept-payload.js';
import { startBridge, type RunningBridge } from '../bridge/mqtt-bridge.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../observability/logger.js';
import type { Client } from '@temporalio/client';
import { primaryIp } from '../workers/node-info.js';

/** Wires the MQTT bridge to the database and Temporal. */
export function runBridge(config: Config, db: Database, temporal: Client, logger: Logger): RunningBridge {
  const accept = createPayloadAcceptor({
    db,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    receiverIp: primaryIp(),
    logger,
  });
  return startBridge({
    url: config.MQTT_URL,
    username: config.MQTT_USERNAME,
    password: config.MQTT_PASSWORD,
    topic: config.MQTT_TOPIC,
    clientId: config.MQTT_CLIENT_ID,
    accept,
    logger,
  });
}
