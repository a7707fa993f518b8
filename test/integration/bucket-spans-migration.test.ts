// Migration 0015 on a book written by 0014: each bucket's spans are filled from its reservations and its full
// periods counted again from them, so a plan right after the upgrade reads exactly the full periods of the runs
// already booked, and later bookings and releases keep them exact.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { createRng } from '../../bench/rng.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createPostgresLedger, type OccupancyRow, occupancyOf, occupancyRead } from '../../src/db/reservations.js';
import { gradingRuns, rawPayloads, runReservations } from '../../src/db/schema.js';
import { CAPACITY_BUCKET_MS } from '../../src/shared/capacity-buckets.js';
import { requireEnv } from '../support/env.js';
import { expectedFullPeriods } from '../support/expected-full-periods.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';

const MIN = 60_000;
const T0 = Math.floor(Date.UTC(2031, 0, 1) / CAPACITY_BUCKET_MS) * CAPACITY_BUCKET_MS;
const CAPACITIES = new Map([
  ['n1', 2],
  ['n2', 3],
]);

/** A copy of the migrations folder that ends at `lastTag`: the schema as that release left it. */
async function migrationsUpTo(lastTag: string): Promise<string> {
  const source = fileURLToPath(new URL('../../drizzle', import.meta.url));
  const folder = await mkdtemp(path.join(tmpdir(), 'gg-migrations-'));
  await cp(source, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const last = journal.entries.findIndex((entry) => entry.tag === lastTag);
  assert.ok(last >= 0, `migration ${lastTag} exists`);
  journal.entries = journal.entries.slice(0, last + 1);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

describe('migration 0015 (bucket spans)', () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let folder: string;

  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    handle = connectDatabase(fresh.url, { maxConnections: 2 });
    folder = await migrationsUpTo('0014_instant_capacity');
  });
  after(async () => {
    await handle?.close();
    await fresh?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  async function addRuns(count: number): Promise<string[]> {
    const shas = Array.from({ length: count }, () => randomUUID());
    await handle.db
      .insert(rawPayloads)
      .values(shas.map((sha256) => ({ sha256, bytes: Buffer.from('zip'), sizeBytes: 3, topic: 't' })));
    const rows = await handle.db
      .insert(gradingRuns)
      .values(
        shas.map((sha256) => ({
          workflowId: `wf-${sha256}`,
          payloadSha256: sha256,
          trigger: 'ingest' as const,
          receivedAt: new Date(T0),
        })),
      )
      .returning({ id: gradingRuns.id });
    return rows.map((row) => row.id);
  }

  /** Books (or moves) random runs on n1 and n2 through the ledger; the guard's refusals book nothing. */
  async function bookRandomly(runIds: readonly string[], seed: number, steps: number) {
    const rng = createRng(seed);
    const ledger = createPostgresLedger(handle.db);
    for (let step = 0; step < steps; step += 1) {
      const runId = runIds[Math.floor(rng.uniform(0, runIds.length))]!;
      const slot = {
        candidateId: rng.chance(0.5) ? 'n1' : 'n2',
        startMs: T0 + Math.floor(rng.uniform(0, 90)) * MIN + Math.floor(rng.uniform(0, MIN)),
        durationMs: 1 + Math.floor(rng.uniform(0, 8 * MIN)),
      };
      if (rng.chance(0.15)) await ledger.release(runId);
      else
        await ledger
          .reserve({ runId, candidateIds: ['n1', 'n2'], fromMs: T0, capacities: CAPACITIES }, () => slot)
          .catch((error: Error) => {
            if (!/capacity of .* exceeded/.test(error.message)) throw error;
          });
    }
  }

  /** What the planner reads now against the pure rule over every booked run. */
  async function assertFullPeriodsExact(label: string) {
    const { rows } = await handle.db.execute<OccupancyRow>(occupancyRead(['n1', 'n2'], T0));
    const expected = expectedFullPeriods(await handle.db.select().from(runReservations), CAPACITIES);
    assert.ok(expected.size > 0, `${label}: the book has full periods to compare`);
    assert.deepEqual(occupancyOf(rows, T0).full, expected, label);
  }

  it('fills spans and full periods from the book 0014 left, and keeps them exact afterwards', async () => {
    await migrate(drizzle(handle.pool), { migrationsFolder: folder });
    // The ledger's plan also holds started runs first (migration 0016, after this one); 0014 had no such step, so
    // a no-op stands in for it until the upgrade, which adds the real one. No run here is started anyway.
    await handle.db.execute(sql`create function greengrader_hold_started(uuid, text[], bigint, integer)
      returns void language sql as 'select null'`);
    const runIds = await addRuns(60);
    // 0014's functions book these (its reads are in its own format; the slots chosen do not depend on them).
    await bookRandomly(runIds, 5, 150);
    const { rows } = await handle.db.execute<{ booked: number }>(
      sql`select count(*)::int as booked from run_reservations`,
    );
    assert.ok((rows[0]?.booked ?? 0) > 30, 'the old book holds runs');

    await handle.db.execute(sql`drop function greengrader_hold_started(uuid, text[], bigint, integer)`);
    await migrateDatabase(handle.pool);
    await assertFullPeriodsExact('right after the migration');
    await bookRandomly(runIds, 6, 100);
    await assertFullPeriodsExact('after more bookings and releases');
  });
});
