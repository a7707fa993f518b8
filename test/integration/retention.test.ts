// Nothing identifiable at rest by default: once the anonymised copy is stored the original is gone; kept originals
// and quarantined payloads are sealed (AES-256-GCM) until their period ends, then the purge drops them.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { createStorageActivities } from '../../src/activities/storage-activities.js';
import { createPayloadAcceptor } from '../../src/bridge/accept-payload.js';
import { createPayloadBatcher } from '../../src/bridge/payload-batcher.js';
import type { QuarantineExportOutput } from '../../src/cli/commands/quarantine.js';
import type { QuarantinedPayload } from '../../src/cli/queries/quarantined-payloads.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { gradingRuns, rawPayloads, rejectedMessages, submissions } from '../../src/db/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import {
  emptyKeyring,
  generateKeyLine,
  openSealed,
  parseKeyring,
  sealContext,
} from '../../src/submission/sealed-bytes.js';
import { runCli, runCliJson } from '../cli/support/run-cli.js';
import { buildGradescopeZip, DEFAULT_STUDENTS } from '../support/gradescope-zip.js';
import { createMigratedDatabase, type MigratedDatabase } from '../support/migrated-database.js';
import { scratchDir } from '../support/scratch-dir.js';

const keyLine = generateKeyLine('k1');
const keyring = parseKeyring(keyLine, 'test');
/** Submissions are stored anonymised, as in production. */
const ANONYMISE_KEY = new TextEncoder().encode('retention-test-pseudonym-key');
const DAY_MS = 86_400_000;

/** What must never be found in a row's bytes in the clear. */
const pii = DEFAULT_STUDENTS.flatMap((s) => [s.name, s.email, s.sid]);

function assertNoPlaintext(bytes: Buffer | null, what: string) {
  if (bytes === null) return;
  for (const value of pii) assert.equal(bytes.includes(Buffer.from(value)), false, `${value} in ${what}`);
}

describe('retention at rest', () => {
  let database: MigratedDatabase;
  const configOf = (env: Record<string, string> = {}): Config => loadConfig({ DATABASE_URL: database.url, ...env });

  before(async () => {
    database = await createMigratedDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  /** Inserts `bytes` as the bridge would, with a run row, and returns its sha256 and run id. */
  async function received(bytes: Buffer) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await database.db.insert(rawPayloads).values({ sha256, bytes, sizeBytes: bytes.length, topic: 'submissions' });
    const [run] = await database.db
      .insert(gradingRuns)
      .values({ workflowId: `grade-${sha256}`, payloadSha256: sha256, trigger: 'ingest', receivedAt: new Date() })
      .returning({ id: gradingRuns.id });
    return { payloadSha256: sha256, runId: run!.id };
  }

  const zipWith = async (nonce: string) =>
    Buffer.from(await buildGradescopeZip({ extra: { 'gradescope/test-nonce': nonce } }));

  it('drops the original once the anonymised copy is stored, keeping the sha256 row for deduplication', async () => {
    const zip = await zipWith(randomUUID());
    const input = await received(zip);
    const storage = createStorageActivities(database.db, configOf(), {
      anonymiseKey: ANONYMISE_KEY,
      keyring: emptyKeyring,
    });
    const ref = await storage.storeSubmission(input);
    const [raw] = await database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, input.payloadSha256));
    assert.equal(raw?.status, 'stored');
    assert.equal(raw?.bytes, null);
    assert.equal(raw?.bytesKeyId, null);
    assert.equal(raw?.sizeBytes, zip.length);
    assert.ok(raw?.bytesPurgedAt instanceof Date);
    const [stored] = await database.db.select().from(submissions).where(eq(submissions.id, ref.submissionId));
    assertNoPlaintext(stored?.zip ?? null, 'the anonymised zip');
    // A re-run stores nothing again and needs no original.
    assert.deepEqual(await storage.storeSubmission(input), ref);
  });

  it('keeps the original sealed under RAW_RETENTION_DAYS: it opens back exactly, and is purged after the period', async () => {
    const zip = await zipWith(randomUUID());
    const input = await received(zip);
    const config = configOf({ RAW_RETENTION_DAYS: '7' });
    await createStorageActivities(database.db, config, { anonymiseKey: ANONYMISE_KEY, keyring }).storeSubmission(input);
    const [raw] = await database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, input.payloadSha256));
    assert.ok(raw?.bytes);
    assert.equal(raw.bytesKeyId, 'k1');
    assert.notDeepEqual(raw.bytes, zip);
    assertNoPlaintext(raw.bytes, 'the sealed original');
    const dueIn = (raw.purgeAfter?.getTime() ?? 0) - Date.now();
    assert.ok(Math.abs(dueIn - 7 * DAY_MS) < 60_000, `purge after ${raw.purgeAfter?.toISOString()}`);
    assert.deepEqual(openSealed(keyring, raw.bytes, sealContext.rawPayload(input.payloadSha256)), zip);

    const env = { DATABASE_URL: database.url, RETENTION_KEY: keyLine };
    const file = path.join(await scratchDir('gg-retained-'), 'original.zip');
    await runCliJson<QuarantineExportOutput>(['quarantine', 'export', input.payloadSha256, '-o', file], env);
    assert.deepEqual(await readFile(file), zip);

    // Not yet due: the purge leaves it. Due (its time set in the past, not waited for): the purge drops it.
    assert.match((await runCli(['purge'], env)).stdout, /dropped: 0 original payload/);
    await database.db
      .update(rawPayloads)
      .set({ purgeAfter: new Date(Date.now() - 1000) })
      .where(eq(rawPayloads.sha256, input.payloadSha256));
    assert.match((await runCli(['purge'], env)).stdout, /dropped: 1 original payload/);
    const [purged] = await database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, input.payloadSha256));
    assert.equal(purged?.bytes, null);
    assert.equal(purged?.status, 'stored');
    const gone = await runCli(['quarantine', 'export', input.payloadSha256, '-o', `${file}.again`], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /were dropped on .* \(retention\)/);
  });

  it('refuses to start keeping originals without a key', async () => {
    const result = await runCli(['bridge'], { DATABASE_URL: database.url, RAW_RETENTION_DAYS: '7' }, 30_000);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /RAW_RETENTION_DAYS=7 keeps original zips, which are only kept encrypted/);
  });

  it('seals a quarantined payload for QUARANTINE_RETENTION_DAYS and fails the activity for good', async () => {
    const good = await zipWith(randomUUID());
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    const input = await received(truncated);
    const storage = createStorageActivities(database.db, configOf({ QUARANTINE_RETENTION_DAYS: '3' }), {
      anonymiseKey: ANONYMISE_KEY,
      keyring,
    });
    await assert.rejects(storage.storeSubmission(input), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      return true;
    });
    const [raw] = await database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, input.payloadSha256));
    assert.ok(raw);
    assert.equal(raw.status, 'rejected');
    assert.equal(raw.bytesKeyId, 'k1');
    assert.ok(raw.bytes);
    assertNoPlaintext(raw.bytes, 'the quarantined payload');
    assert.deepEqual(openSealed(keyring, raw.bytes, sealContext.rawPayload(input.payloadSha256)), truncated);
    const dueIn = (raw.purgeAfter?.getTime() ?? 0) - Date.now();
    assert.ok(Math.abs(dueIn - 3 * DAY_MS) < 60_000);
  });

  it('stores a message the bridge refuses sealed, and `quarantine export` gives back the original', async () => {
    const message = Buffer.from(`not a zip, from ${pii.join(' ')} ${randomUUID()}`);
    const sha256 = createHash('sha256').update(message).digest('hex');
    const accept = createPayloadAcceptor({
      db: database.db,
      batcher: createPayloadBatcher({ db: database.db, maxRows: 8, flushAfterMs: 1 }),
      maxPayloadBytes: 1024 * 1024,
      keyring,
      quarantineRetentionDays: 14,
      receiverIp: null,
      logger: silentLogger,
    });
    assert.equal(await accept('submissions', message), 'rejected');
    const [row] = await database.db.select().from(rejectedMessages).where(eq(rejectedMessages.sha256, sha256));
    assert.ok(row?.bytes);
    assert.equal(row.bytesKeyId, 'k1');
    assert.notDeepEqual(row.bytes, message);
    assertNoPlaintext(row.bytes, 'the rejected message');
    assert.equal(row.bytes.includes(Buffer.from('not a zip')), false);
    assert.ok(row.purgeAfter !== null && row.purgeAfter.getTime() > Date.now() + 13 * DAY_MS);

    // After a rotation (new key first, old kept), the message sealed with the old key still exports.
    const rotated = `${generateKeyLine('k2')}\n${keyLine}\n`;
    const dir = await scratchDir('gg-quarantine-');
    const keysFile = path.join(dir, 'keys');
    await writeFile(keysFile, rotated, { mode: 0o600 });
    const fileEnv = { DATABASE_URL: database.url, RETENTION_KEYS_FILE: keysFile };
    const list = await runCliJson<{ payloads: QuarantinedPayload[] }>(['quarantine', 'list'], fileEnv);
    const listed = list.payloads.find((p) => p.sha256 === sha256);
    assert.equal(listed?.refusedBy, 'bridge');
    assert.equal(listed?.code, 'not-a-zip');
    assert.equal(listed?.kept, 'sealed');
    const file = path.join(dir, 'message.bin');
    const exported = await runCliJson<QuarantineExportOutput>(['quarantine', 'export', sha256, '-o', file], fileEnv);
    assert.equal(exported.sizeBytes, message.length);
    assert.deepEqual(await readFile(file), message);
    const again = await runCli(['quarantine', 'export', sha256, '-o', file], fileEnv);
    assert.match(again.stderr, /exists \(--force overwrites it\)/);

    // Without the old key the export says which key it needs; a tampered row is refused by the GCM tag.
    const withoutOld = { DATABASE_URL: database.url, RETENTION_KEY: generateKeyLine('k2') };
    const missing = await runCli(['quarantine', 'export', sha256, '-o', path.join(dir, 'x')], withoutOld);
    assert.match(missing.stderr, /sealed with key "k1", which is not in the keyring/);
    const tampered = Buffer.from(row.bytes);
    tampered[tampered.length - 1]! ^= 1;
    await database.db.update(rejectedMessages).set({ bytes: tampered }).where(eq(rejectedMessages.id, row.id));
    const refused = await runCli(['quarantine', 'export', sha256, '-o', path.join(dir, 'y')], fileEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /failed authentication/);
  });
});
