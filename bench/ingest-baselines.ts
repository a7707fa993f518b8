// The two references bench:ingest compares the bridge with, measured in the same run on the same services.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import type { PayloadFile } from './ingest-publish.js';

export interface RateResult {
  count: number;
  seconds: number;
  perSecond: number;
}

const rate = (count: number, ms: number): RateResult => ({
  count,
  seconds: ms / 1000,
  perSecond: count / (ms / 1000),
});

/**
 * What the original ingest.py did per message and nothing more: one INSERT, committed on its own, one row at a
 * time, into a plain table of the same database server. The ceiling of a store-one-then-ack loop.
 */
export async function measureStoreOnly(databaseUrl: string, files: readonly PayloadFile[]): Promise<RateResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = `bench_store_only_${randomUUID().slice(0, 8)}`;
    await client.query(`CREATE TABLE ${table} (sha256 text PRIMARY KEY, bytes bytea NOT NULL)`);
    // Reading the file is part of the loop, as a broker hands each message over separately.
    const t0 = Date.now();
    for (const file of files) {
      await client.query(`INSERT INTO ${table} VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        file.sha256,
        await readFile(file.path),
      ]);
    }
    const result = rate(files.length, Date.now() - t0);
    await client.query(`DROP TABLE ${table}`);
    return result;
  } finally {
    await client.end();
  }
}

/**
 * Temporal's own start rate: `count` workflow starts, `concurrency` in flight, on a task queue nobody polls
 * (a start costs the same whether or not a worker later runs the workflow).
 */
export async function measureTemporalStarts(temporal: Client, count: number, concurrency: number): Promise<RateResult> {
  const taskQueue = `bench-start-rate-${randomUUID().slice(0, 8)}`;
  let next = 0;
  let failure: unknown;
  const t0 = Date.now();
  const lane = async () => {
    while (next < count && failure === undefined) {
      const index = next++;
      await temporal.workflow.start('BenchNoopWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-${index}`,
        args: [],
      });
    }
  };
  // Every lane settles before this returns: a caller closing the connection on a failure must not leave
  // another lane's call retrying on a closed channel (grpc-js throws that from a timer, killing the process).
  const lanes = await Promise.allSettled(
    Array.from({ length: concurrency }, () =>
      lane().catch((error: unknown) => {
        failure ??= error;
        throw error;
      }),
    ),
  );
  if (failure !== undefined) {
    const failed = lanes.filter((l) => l.status === 'rejected').length;
    throw new Error(`Temporal's own start rate: ${failed} of ${concurrency} lanes failed`, { cause: failure });
  }
  return rate(count, Date.now() - t0);
}
