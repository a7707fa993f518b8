import { and, desc, eq, isNotNull, sql, type AnyColumn } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { rawPayloads, rejectedMessages } from '../../db/schema.js';
import { sealContext } from '../../submission/sealed-bytes.js';

/** One quarantined payload, as `greengrader quarantine list --json` prints it. */
export interface QuarantinedPayload {
  sha256: string;
  /** `bridge`: refused before storage (rejected_messages); `storage`: stored, then refused by parsing (raw_payloads). */
  refusedBy: 'bridge' | 'storage';
  code: string;
  reason: string;
  sizeBytes: number;
  /** The kept bytes are only the first ones (an oversized message). */
  truncated: boolean;
  refusedAt: string;
  /** When the purge drops the bytes; null once dropped. */
  purgeAfter: string | null;
  /** `sealed` (key id in `keyId`), `plaintext` (no key was configured) or `purged`. */
  kept: 'sealed' | 'plaintext' | 'purged';
  keyId: string | null;
}

/** Whether a bytea column holds bytes, without reading them. */
const present = (column: AnyColumn) => sql<boolean>`${column} is not null`;

const keptOf = (bytesPresent: boolean, keyId: string | null): QuarantinedPayload['kept'] =>
  !bytesPresent ? 'purged' : keyId === null ? 'plaintext' : 'sealed';

/** Quarantined payloads and rejected messages, most recent first. */
export async function listQuarantined(db: Database, limit: number): Promise<QuarantinedPayload[]> {
  const fromStorage = await db
    .select({
      sha256: rawPayloads.sha256,
      code: rawPayloads.rejectionCode,
      reason: rawPayloads.rejectionReason,
      sizeBytes: rawPayloads.sizeBytes,
      refusedAt: rawPayloads.rejectedAt,
      receivedAt: rawPayloads.receivedAt,
      purgeAfter: rawPayloads.purgeAfter,
      bytesPresent: present(rawPayloads.bytes),
      keyId: rawPayloads.bytesKeyId,
    })
    .from(rawPayloads)
    .where(eq(rawPayloads.status, 'rejected'))
    .orderBy(desc(rawPayloads.rejectedAt))
    .limit(limit);
  const fromBridge = await db
    .select({
      sha256: rejectedMessages.sha256,
      code: rejectedMessages.rejectionCode,
      reason: rejectedMessages.rejectionReason,
      sizeBytes: rejectedMessages.sizeBytes,
      truncated: rejectedMessages.truncated,
      refusedAt: rejectedMessages.receivedAt,
      purgeAfter: rejectedMessages.purgeAfter,
      bytesPresent: present(rejectedMessages.bytes),
      keyId: rejectedMessages.bytesKeyId,
    })
    .from(rejectedMessages)
    .orderBy(desc(rejectedMessages.receivedAt))
    .limit(limit);
  const all: QuarantinedPayload[] = [
    ...fromStorage.map((row) => ({
      sha256: row.sha256,
      refusedBy: 'storage' as const,
      code: row.code ?? 'unknown',
      reason: row.reason ?? '',
      sizeBytes: row.sizeBytes,
      truncated: false,
      refusedAt: (row.refusedAt ?? row.receivedAt).toISOString(),
      purgeAfter: row.purgeAfter?.toISOString() ?? null,
      kept: keptOf(row.bytesPresent, row.keyId),
      keyId: row.keyId,
    })),
    ...fromBridge.map((row) => ({
      ...row,
      refusedBy: 'bridge' as const,
      refusedAt: row.refusedAt.toISOString(),
      purgeAfter: row.purgeAfter?.toISOString() ?? null,
      kept: keptOf(row.bytesPresent, row.keyId),
    })),
  ];
  return all.sort((a, b) => b.refusedAt.localeCompare(a.refusedAt)).slice(0, limit);
}

/** The kept bytes of a payload and what opens them, or null when nothing of that sha256 is kept. */
export interface KeptPayload {
  bytes: Buffer;
  bytesKeyId: string | null;
  /** The authenticated context the bytes were sealed under (see sealContext). */
  context: string;
  truncated: boolean;
  refusedBy: 'bridge' | 'storage' | 'retained';
}

/**
 * Finds the kept bytes of `sha256`: a quarantined or retained original in raw_payloads first, else the latest
 * rejected message still holding bytes.
 */
export async function findKeptPayload(db: Database, sha256: string): Promise<KeptPayload | null> {
  const [raw] = await db
    .select({ bytes: rawPayloads.bytes, bytesKeyId: rawPayloads.bytesKeyId, status: rawPayloads.status })
    .from(rawPayloads)
    .where(and(eq(rawPayloads.sha256, sha256), isNotNull(rawPayloads.bytes), isNotNull(rawPayloads.purgeAfter)));
  if (raw?.bytes) {
    return {
      bytes: raw.bytes,
      bytesKeyId: raw.bytesKeyId,
      context: sealContext.rawPayload(sha256),
      truncated: false,
      refusedBy: raw.status === 'rejected' ? 'storage' : 'retained',
    };
  }
  const [message] = await db
    .select()
    .from(rejectedMessages)
    .where(and(eq(rejectedMessages.sha256, sha256), isNotNull(rejectedMessages.bytes)))
    .orderBy(desc(rejectedMessages.receivedAt))
    .limit(1);
  if (!message?.bytes) return null;
  return {
    bytes: message.bytes,
    bytesKeyId: message.bytesKeyId,
    context: sealContext.rejectedMessage(message.id),
    truncated: message.truncated,
    refusedBy: 'bridge',
  };
}

/** Why nothing is kept of `sha256`, for the export's error message. */
export async function whyNotKept(db: Database, sha256: string): Promise<string> {
  const [raw] = await db.select().from(rawPayloads).where(eq(rawPayloads.sha256, sha256));
  const [message] = await db
    .select({ purgedAt: rejectedMessages.bytesPurgedAt })
    .from(rejectedMessages)
    .where(eq(rejectedMessages.sha256, sha256))
    .limit(1);
  const purgedAt = raw?.bytesPurgedAt ?? message?.purgedAt ?? null;
  if (raw === undefined && message === undefined) return `no payload ${sha256} was ever received`;
  if (raw?.status === 'received') return `payload ${sha256} is still being processed (not quarantined)`;
  if (purgedAt !== null) return `the bytes of payload ${sha256} were dropped on ${purgedAt.toISOString()} (retention)`;
  return `nothing of payload ${sha256} is kept`;
}
