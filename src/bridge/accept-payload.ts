import { createHash, randomUUID } from 'node:crypto';
import type { Database } from '../db/client.js';
import { rejectedMessages } from '../db/schema.js';
import { storableText } from '../db/storable-text.js';
import type { Logger } from '../observability/logger.js';
import { countRejectedMessage, metrics } from '../observability/metrics.js';
import { keepBytes, sealContext, type RetentionKeyring } from '../submission/sealed-bytes.js';
import { checkPayload } from './payload-checks.js';
import type { createPayloadBatcher } from './payload-batcher.js';

/** Bytes of an oversized message kept for inspection: enough to see what it was. */
const OVERSIZED_SAMPLE_BYTES = 64 * 1024;
const DAY_MS = 86_400_000;

export type Acceptance = 'stored' | 'duplicate' | 'rejected';

export interface PayloadAcceptorDeps {
  db: Database;
  batcher: ReturnType<typeof createPayloadBatcher>;
  maxPayloadBytes: number;
  /** Seals a rejected message's bytes (plaintext when empty: the operator was warned at start). */
  keyring: RetentionKeyring;
  /** A rejected message's bytes are purged this many days after it arrived. */
  quarantineRetentionDays: number;
  receiverIp: string | null;
  logger: Logger;
}

/**
 * Commits one message durably: its bytes as a payload pending its workflow start, or its rejection with a
 * reason. Resolves only once committed, so the bridge acknowledges the message only then; the workflow is
 * started afterwards from the table by the starter loop. Throws on a fault worth retrying.
 */
export function createPayloadAcceptor(deps: PayloadAcceptorDeps) {
  return async function acceptPayload(topic: string, bytes: Buffer, receivedAt = new Date()): Promise<Acceptance> {
    metrics.messagesReceived.inc();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // PostgreSQL refuses U+0000 in text, which a broker may pass in a topic (aedes under a wildcard MQTT_TOPIC): the
    // row would fail at every retry, and with it every message batched beside it.
    const { text: storedTopic } = storableText(topic);
    const rejection = checkPayload(bytes, deps.maxPayloadBytes);
    if (rejection) {
      const truncated = bytes.length > deps.maxPayloadBytes;
      // Rare: one row at a time, outside the payload batches. The id is made here: the seal is bound to it.
      const id = randomUUID();
      const kept = truncated ? bytes.subarray(0, OVERSIZED_SAMPLE_BYTES) : bytes;
      // The broker sends a message again when its PUBACK was lost (a reconnect, a restart): the same bytes on the
      // same topic are kept once while their bytes are (rejected_messages_kept_once_idx, so two deliveries at once
      // insert once).
      const inserted = await deps.db
        .insert(rejectedMessages)
        .values({
          id,
          topic: storedTopic,
          sizeBytes: bytes.length,
          ...keepBytes(deps.keyring, kept, sealContext.rejectedMessage(id)),
          purgeAfter: new Date(receivedAt.getTime() + deps.quarantineRetentionDays * DAY_MS),
          truncated,
          sha256,
          rejectionCode: rejection.code,
          rejectionReason: storableText(rejection.reason).text,
        })
        // The only unique index a new row can conflict with is that one (its id is new): no target needed, where
        // one would have to spell the index's md5(topic) expression.
        .onConflictDoNothing()
        .returning({ id: rejectedMessages.id });
      const keptNow = inserted.length > 0;
      // Counted once per message, as it is kept: a redelivery is the same message.
      if (keptNow) countRejectedMessage(rejection.code);
      deps.logger.warn(keptNow ? 'message rejected' : 'message rejected again, already kept', {
        sha256,
        topic,
        sizeBytes: bytes.length,
        ...rejection,
      });
      return 'rejected';
    }
    // A redelivery of stored bytes inserts nothing: its workflow was started, or is pending in the table.
    const acceptance = await deps.batcher.store({
      sha256,
      bytes,
      sizeBytes: bytes.length,
      topic: storedTopic,
      receiverIp: deps.receiverIp,
      receivedAt,
    });
    deps.logger.info(acceptance === 'stored' ? 'payload stored' : 'duplicate delivery, already stored', {
      sha256,
      topic,
      sizeBytes: bytes.length,
    });
    return acceptance;
  };
}
