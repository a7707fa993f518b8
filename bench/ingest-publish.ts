// The Gradescope side of bench:ingest: one mosquitto_pub process per zip, back to back, as the hook runs them.
import { mosquittoPub, type Broker } from '../test/support/publish.js';

export interface PayloadFile {
  path: string;
  sha256: string;
  sizeBytes: number;
}

export interface Published {
  sha256: string;
  /** When its mosquitto_pub started and returned (the broker's PUBACK), ms since the epoch. */
  startedAt: number;
  returnedAt: number;
}

/**
 * Publishes each file with its own `mosquitto_pub -q 1 -f FILE`, the next once the previous returned.
 * `onEach` runs after each publish (the outage scenario stops Temporal part-way through).
 */
export async function publishBackToBack(
  broker: Broker,
  files: readonly PayloadFile[],
  onEach?: (index: number) => void,
): Promise<Published[]> {
  const published: Published[] = [];
  for (const [index, file] of files.entries()) {
    const startedAt = Date.now();
    await mosquittoPub(broker, file.path);
    published.push({ sha256: file.sha256, startedAt, returnedAt: Date.now() });
    onEach?.(index);
  }
  return published;
}
