import { freePort } from './free-port.js';
import { assertPortFree, PortInUseError } from './port-in-use.js';

/** Free ports tried before giving up when each was taken before the service could bind it. */
const ATTEMPTS = 3;

/**
 * The given port if it is free (whoever holds it would take the connections meant for `service`), else a free one
 * checked right before the start. A port the kernel handed out as free can be taken by another socket before the
 * service binds it (a Temporal dev server starting alongside binds several), so a taken one is replaced.
 */
export async function portToListenOn(
  service: string,
  given: number | undefined,
  choose: () => Promise<number> = freePort,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = given ?? (await choose());
    try {
      await assertPortFree('127.0.0.1', port, service);
      return port;
    } catch (error) {
      if (given !== undefined || !(error instanceof PortInUseError) || attempt >= ATTEMPTS) throw error;
    }
  }
}
