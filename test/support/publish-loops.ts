import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import mqtt from 'mqtt';
import { mosquittoPub, type Broker } from './publish.js';
import { scratchDir } from './scratch-dir.js';

/** Unique bytes that pass the bridge's cheap zip check (workflow ids are global in the shared Temporal). */
export const fakeZip = (): Buffer => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from(randomUUID())]);

/** Writes each payload to its own file, for `mosquitto_pub -f`; returns the paths in order. */
export async function writePayloadFiles(payloads: readonly Buffer[]): Promise<string[]> {
  const dir = await scratchDir('gg-burst-');
  return Promise.all(
    payloads.map(async (bytes, index) => {
      const file = path.join(dir, `${index}.zip`);
      await writeFile(file, bytes);
      return file;
    }),
  );
}

/**
 * Publishes every file with its own `mosquitto_pub -q 1`, as the Gradescope hook does, from `lanes` loops at
 * once (autograders finishing together), each starting its next publish when the previous returned.
 */
export async function publishFromLanes(broker: Broker, files: readonly string[], lanes: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const file = files[next++];
      if (file !== undefined) await mosquittoPub(broker, file);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * Publishes every payload at QoS 1 from `publishers` connections at once, each with all its messages in flight:
 * faster than any fleet of `mosquitto_pub` hooks, so a broker must hold what the bridge has not taken yet.
 */
export async function publishBurst(
  broker: Broker,
  payloads: readonly Buffer[],
  publishers: number,
  qos: 0 | 1 = 1,
): Promise<void> {
  await Promise.all(
    Array.from({ length: publishers }, async (_, p) => {
      const client = await mqtt.connectAsync(broker.url, {
        username: broker.username,
        password: broker.password,
        reconnectPeriod: 0,
      });
      try {
        const mine = payloads.filter((_, i) => i % publishers === p);
        await Promise.all(mine.map((bytes) => client.publishAsync(broker.topic, bytes, { qos })));
      } finally {
        await client.endAsync();
      }
    }),
  );
}
