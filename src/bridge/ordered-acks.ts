/** One admitted message: settle it once its bytes (or its rejection) are committed. */
interface AckSlot {
  settle(): void;
}

export interface OrderedAcks {
  /**
   * Admits a message; resolves once the window has room for it. Rejects with ConnectionReset when a reset comes
   * first: the message belongs to a lost connection and must neither be handled nor take a place on the next.
   */
  admit(messageId: number): Promise<AckSlot>;
  /**
   * Forgets every unacknowledged message: after a reconnect the broker sends them again (a persistent session
   * keeps their ids), and only PUBACKs of what arrives on the new connection may go out on it.
   */
  reset(): void;
  readonly size: number;
}

/** A message waited for the window while its connection was lost: the broker sends it again on the next. */
export class ConnectionReset extends Error {
  constructor() {
    super('the connection this message came on was lost before the window had room for it');
    this.name = 'ConnectionReset';
  }
}

/**
 * Acknowledges messages in the order they arrived (MQTT requires PUBACKs in PUBLISH order for QoS 1) while
 * they are stored concurrently: a settled message waits for every earlier one before its PUBACK goes out.
 * At most `window` messages are held at once.
 */
export function createOrderedAcks(window: number, sendPuback: (messageId: number) => void): OrderedAcks {
  let queue: { messageId: number; settled: boolean }[] = [];
  let waiting: (() => void)[] = [];

  const drain = () => {
    while (queue[0]?.settled) sendPuback(queue.shift()!.messageId);
    while (waiting.length > 0 && queue.length < window) waiting.shift()!();
  };

  return {
    async admit(messageId) {
      const arrivedOn = queue;
      while (queue.length >= window) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        if (queue !== arrivedOn) throw new ConnectionReset();
      }
      const entry = { messageId, settled: false };
      const current = queue;
      current.push(entry);
      return {
        settle() {
          entry.settled = true;
          // A slot from before a reset belongs to a dead connection: its PUBACK must not go out.
          if (current === queue) drain();
        },
      };
    },
    reset() {
      queue = [];
      const released = waiting;
      waiting = [];
      released.forEach((resolve) => resolve());
    },
    get size() {
      return queue.length;
    },
  };
}
