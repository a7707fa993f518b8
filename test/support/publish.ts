import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Broker {
  url: string;
  username: string;
  password: string;
  topic: string;
}

/** Publishes a file exactly as the Gradescope hook does, with the real mosquitto_pub (QoS 1). */
export async function mosquittoPub(
  broker: Broker,
  file: string,
  options: { credentials?: readonly [string, string] | null } = {},
) {
  const url = new URL(broker.url);
  const credentials =
    options.credentials === undefined ? ([broker.username, broker.password] as const) : options.credentials;
  return run('mosquitto_pub', [
    ...['-h', url.hostname, '-p', url.port || '1883'],
    ...(credentials ? ['-u', credentials[0], '-P', credentials[1]] : []),
    ...['-t', broker.topic, '-q', '1', '-f', file],
  ]);
}

/** Writes bytes to a fresh gradescope_data.zip and returns its path and SHA-256. */
export async function writeZipFile(bytes: Uint8Array): Promise<{ path: string; sha256: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gg-publish-'));
  const path = join(dir, 'gradescope_data.zip');
  await writeFile(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The broker as Gradescope's hook sees it: the publisher's login. */
export function brokerOf(config: {
  MQTT_URL: string;
  MQTT_PUBLISHER_USERNAME: string;
  MQTT_PUBLISHER_PASSWORD: string;
  MQTT_TOPIC: string;
}): Broker {
  return {
    url: config.MQTT_URL,
    username: config.MQTT_PUBLISHER_USERNAME,
    password: config.MQTT_PUBLISHER_PASSWORD,
    topic: config.MQTT_TOPIC,
  };
}
