import { readFile } from 'node:fs/promises';

/** Thrown when MQTT_CA_FILE names a file that cannot be read. */
class BrokerCaError extends Error {
  override name = 'BrokerCaError';
}

/**
 * mqtt.js options that make an `mqtts://` connection trust MQTT_CA_FILE (a private CA) besides the system's
 * roots; none when it is unset.
 */
export async function brokerTlsOptions(caFile: string | undefined): Promise<{ ca?: Buffer }> {
  if (caFile === undefined) return {};
  try {
    return { ca: await readFile(caFile) };
  } catch (error) {
    throw new BrokerCaError(
      `MQTT_CA_FILE ${caFile} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
